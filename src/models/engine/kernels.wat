;; The engine's hot loops in WebAssembly: histogram building, histogram subtraction and row partitioning for
;; gradient boosting, and the walk of XGBoost's trees (xgboost_sums). Measured on this project's 2-core machine, the same histogram loop runs at ~1.3 ns per
;; (row, feature) in WebAssembly and ~3 ns in JavaScript (TurboFan keeps a bounds check on every typed-array
;; access of the scatter); it is most of the time of a boosting fit, so it is worth the second language.
;;
;; Memory is the engine's arena (gradient-arena.ts), shared with the worker threads; every pointer is a byte offset
;; in it. `npm run kernels` assembles this file with wabt into kernels-wasm.ts; a test checks the two agree.
;;
;; A histogram is, per feature, `width` bytes: per bin three f64 (sum of gradients, sum of hessians, rows).
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Sum the histograms of rows index[start, end) for features [f0, f1), into hist (zeroed by the caller).
  ;; bins: column-major u8, feature f's rows at bins + f * rows. g, h: f64 per row.
  ;; Four features per pass over the rows: one gradient and hessian load serves four updates.
  (func (export "build")
    (param $bins i32) (param $rows i32) (param $index i32) (param $start i32) (param $end i32)
    (param $g i32) (param $h i32) (param $hist i32) (param $f0 i32) (param $f1 i32) (param $width i32)
    (local $f i32) (local $i i32) (local $r i32) (local $k i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $h0 i32) (local $h1 i32) (local $h2 i32) (local $h3 i32)
    (local $gr f64) (local $hr f64)
    (local.set $f (local.get $f0))
    ;; blocks of four features
    (block $done4
      (loop $features4
        (br_if $done4 (i32.gt_s (i32.add (local.get $f) (i32.const 4)) (local.get $f1)))
        (local.set $c0 (i32.add (local.get $bins) (i32.mul (local.get $f) (local.get $rows))))
        (local.set $c1 (i32.add (local.get $c0) (local.get $rows)))
        (local.set $c2 (i32.add (local.get $c1) (local.get $rows)))
        (local.set $c3 (i32.add (local.get $c2) (local.get $rows)))
        (local.set $h0 (i32.add (local.get $hist) (i32.mul (i32.sub (local.get $f) (local.get $f0)) (local.get $width))))
        (local.set $h1 (i32.add (local.get $h0) (local.get $width)))
        (local.set $h2 (i32.add (local.get $h1) (local.get $width)))
        (local.set $h3 (i32.add (local.get $h2) (local.get $width)))
        (local.set $i (local.get $start))
        (block $rows4
          (loop $row4
            (br_if $rows4 (i32.ge_s (local.get $i) (local.get $end)))
            (local.set $r (i32.load (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $gr (f64.load (i32.add (local.get $g) (i32.shl (local.get $r) (i32.const 3)))))
            (local.set $hr (f64.load (i32.add (local.get $h) (i32.shl (local.get $r) (i32.const 3)))))
            ;; feature f
            (local.set $k (i32.add (local.get $h0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $hr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature f + 1
            (local.set $k (i32.add (local.get $h1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $hr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature f + 2
            (local.set $k (i32.add (local.get $h2) (i32.mul (i32.load8_u (i32.add (local.get $c2) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $hr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature f + 3
            (local.set $k (i32.add (local.get $h3) (i32.mul (i32.load8_u (i32.add (local.get $c3) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $hr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row4)))
        (local.set $f (i32.add (local.get $f) (i32.const 4)))
        (br $features4)))
    ;; the remaining features, one at a time
    (block $done1
      (loop $features1
        (br_if $done1 (i32.ge_s (local.get $f) (local.get $f1)))
        (local.set $c0 (i32.add (local.get $bins) (i32.mul (local.get $f) (local.get $rows))))
        (local.set $h0 (i32.add (local.get $hist) (i32.mul (i32.sub (local.get $f) (local.get $f0)) (local.get $width))))
        (local.set $i (local.get $start))
        (block $rows1
          (loop $row1
            (br_if $rows1 (i32.ge_s (local.get $i) (local.get $end)))
            (local.set $r (i32.load (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $k (i32.add (local.get $h0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (f64.load (i32.add (local.get $g) (i32.shl (local.get $r) (i32.const 3))))))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (f64.load (i32.add (local.get $h) (i32.shl (local.get $r) (i32.const 3))))))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row1)))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $features1)))
  )

  ;; As build, for losses whose hessians are all 1 (squared and absolute error without weights): the rows are the
  ;; hessians, so the hessian slot is left alone (the split search reads the count instead). A third less work.
  ;; bins: column-major u8, feature f's rows at bins + f * rows. g, h: f64 per row.
  ;; Four features per pass over the rows: one gradient and hessian load serves four updates.
  (func (export "build_constant")
    (param $bins i32) (param $rows i32) (param $index i32) (param $start i32) (param $end i32)
    (param $g i32) (param $h i32) (param $hist i32) (param $f0 i32) (param $f1 i32) (param $width i32)
    (local $f i32) (local $i i32) (local $r i32) (local $k i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $h0 i32) (local $h1 i32) (local $h2 i32) (local $h3 i32)
    (local $gr f64)
    (local.set $f (local.get $f0))
    ;; blocks of four features
    (block $done4
      (loop $features4
        (br_if $done4 (i32.gt_s (i32.add (local.get $f) (i32.const 4)) (local.get $f1)))
        (local.set $c0 (i32.add (local.get $bins) (i32.mul (local.get $f) (local.get $rows))))
        (local.set $c1 (i32.add (local.get $c0) (local.get $rows)))
        (local.set $c2 (i32.add (local.get $c1) (local.get $rows)))
        (local.set $c3 (i32.add (local.get $c2) (local.get $rows)))
        (local.set $h0 (i32.add (local.get $hist) (i32.mul (i32.sub (local.get $f) (local.get $f0)) (local.get $width))))
        (local.set $h1 (i32.add (local.get $h0) (local.get $width)))
        (local.set $h2 (i32.add (local.get $h1) (local.get $width)))
        (local.set $h3 (i32.add (local.get $h2) (local.get $width)))
        (local.set $i (local.get $start))
        (block $rows4
          (loop $row4
            (br_if $rows4 (i32.ge_s (local.get $i) (local.get $end)))
            (local.set $r (i32.load (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $gr (f64.load (i32.add (local.get $g) (i32.shl (local.get $r) (i32.const 3)))))
            ;; feature f
            (local.set $k (i32.add (local.get $h0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature f + 1
            (local.set $k (i32.add (local.get $h1) (i32.mul (i32.load8_u (i32.add (local.get $c1) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature f + 2
            (local.set $k (i32.add (local.get $h2) (i32.mul (i32.load8_u (i32.add (local.get $c2) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature f + 3
            (local.set $k (i32.add (local.get $h3) (i32.mul (i32.load8_u (i32.add (local.get $c3) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $gr)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row4)))
        (local.set $f (i32.add (local.get $f) (i32.const 4)))
        (br $features4)))
    ;; the remaining features, one at a time
    (block $done1
      (loop $features1
        (br_if $done1 (i32.ge_s (local.get $f) (local.get $f1)))
        (local.set $c0 (i32.add (local.get $bins) (i32.mul (local.get $f) (local.get $rows))))
        (local.set $h0 (i32.add (local.get $hist) (i32.mul (i32.sub (local.get $f) (local.get $f0)) (local.get $width))))
        (local.set $i (local.get $start))
        (block $rows1
          (loop $row1
            (br_if $rows1 (i32.ge_s (local.get $i) (local.get $end)))
            (local.set $r (i32.load (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $k (i32.add (local.get $h0) (i32.mul (i32.load8_u (i32.add (local.get $c0) (local.get $r))) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (f64.load (i32.add (local.get $g) (i32.shl (local.get $r) (i32.const 3))))))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row1)))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $features1)))
  )

  ;; Zero `bytes` bytes at ptr (a histogram before it is summed).
  (func (export "zero") (param $ptr i32) (param $bytes i32)
    (memory.fill (local.get $ptr) (i32.const 0) (local.get $bytes))
  )

  ;; parent[i] -= small[i] for `count` f64 values, two at a time.
  (func (export "subtract") (param $parent i32) (param $small i32) (param $count i32)
    (local $end i32) (local $pairs i32)
    (local.set $pairs (i32.add (local.get $parent) (i32.shl (i32.shr_u (local.get $count) (i32.const 1)) (i32.const 4))))
    (local.set $end (i32.add (local.get $parent) (i32.shl (local.get $count) (i32.const 3))))
    (block $done2
      (loop $two
        (br_if $done2 (i32.ge_u (local.get $parent) (local.get $pairs)))
        (v128.store (local.get $parent) (f64x2.sub (v128.load (local.get $parent)) (v128.load (local.get $small))))
        (local.set $parent (i32.add (local.get $parent) (i32.const 16)))
        (local.set $small (i32.add (local.get $small) (i32.const 16)))
        (br $two)))
    (if (i32.lt_u (local.get $parent) (local.get $end))
      (then (f64.store (local.get $parent) (f64.sub (f64.load (local.get $parent)) (f64.load (local.get $small))))))
  )

  ;; raw[index[i]] += value for i in [start, end): a leaf's value added to its training rows' raw predictions (raw
  ;; already offset to the tree's class).
  (func (export "add_leaf") (param $index i32) (param $start i32) (param $end i32) (param $raw i32) (param $value f64)
    (local $i i32) (local $at i32)
    (local.set $i (local.get $start))
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $at (i32.add (local.get $raw) (i32.shl (i32.load (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 3))))
        (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (local.get $value)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
  )

  ;; Reorder index[start, end) so that rows whose bin in `column` has table[bin] = 1 come first, each side in its
  ;; former order, using scratch (i32 per row) for the right side; returns the boundary. Branch-free: a row's side
  ;; is as unpredictable as the data.
  (func (export "partition") (param $index i32) (param $start i32) (param $end i32) (param $column i32) (param $table i32) (param $scratch i32) (result i32)
    (local $i i32) (local $l i32) (local $r i32) (local $row i32) (local $left i32)
    (local.set $i (local.get $start))
    (local.set $l (local.get $start))
    (block $done
      (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $row (i32.load (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $left (i32.load8_u (i32.add (local.get $table) (i32.load8_u (i32.add (local.get $column) (local.get $row))))))
        (i32.store (i32.add (local.get $index) (i32.shl (local.get $l) (i32.const 2))) (local.get $row))
        (i32.store (i32.add (local.get $scratch) (i32.shl (local.get $r) (i32.const 2))) (local.get $row))
        (local.set $l (i32.add (local.get $l) (local.get $left)))
        (local.set $r (i32.add (local.get $r) (i32.sub (i32.const 1) (local.get $left))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (memory.copy (i32.add (local.get $index) (i32.shl (local.get $l) (i32.const 2))) (local.get $scratch) (i32.shl (local.get $r) (i32.const 2)))
    (local.get $l)
  )

  ;; XGBoost's trees over rows [from, to) (engine/xgboost-trees.ts lays them out): out[r][group of t] += the leaf of
  ;; tree t, in tree order, in float32 as XGBoost sums. A node is 16 bytes at nodes + offset: the threshold (f32; a
  ;; categorical split: its set's offset from `sets`, i32), the feature's byte offset in a row with DEFAULT_LEFT
  ;; (bit 31) and CATEGORICAL (bit 30) above it, the right child's offset, the leaf value (f32); the left child is
  ;; the next node. A leaf has a NaN threshold, no flags and itself as right child, so that a row at a leaf stays
  ;; there. A tree is 12 bytes at trees: its root's offset, its depth, its group's byte offset in an output row.
  ;; Blocks of `block` rows go through the trees one level at a time (idx: a block's current nodes): the rows of a
  ;; level are independent, and a numeric split's way is taken without a branch (select), so the walk is bound by
  ;; loads rather than by mispredicted branches (measured ~2.5x the speed of the node-by-node walk).
  (func (export "xgboost_sums")
    (param $nodes i32) (param $sets i32) (param $trees i32) (param $ntrees i32) (param $rows i32) (param $rowBytes i32)
    (param $from i32) (param $to i32) (param $out i32) (param $outRow i32) (param $idx i32) (param $block i32)
    (local $s i32) (local $m i32) (local $t i32) (local $tp i32) (local $root i32) (local $depth i32) (local $d i32)
    (local $i i32) (local $ip i32) (local $ra i32) (local $nd i32) (local $w i32) (local $x f32) (local $h f32)
    (local $o i32) (local $set i32) (local $c i32)
    (local.set $s (local.get $from))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_s (local.get $s) (local.get $to)))
        (local.set $m (i32.sub (local.get $to) (local.get $s)))
        (if (i32.gt_s (local.get $m) (local.get $block)) (then (local.set $m (local.get $block))))
        (local.set $t (i32.const 0))
        (block $treesDone
          (loop $eachTree
            (br_if $treesDone (i32.ge_s (local.get $t) (local.get $ntrees)))
            (local.set $tp (i32.add (local.get $trees) (i32.mul (local.get $t) (i32.const 12))))
            (local.set $root (i32.add (local.get $nodes) (i32.load (local.get $tp))))
            (local.set $depth (i32.load offset=4 (local.get $tp)))
            (local.set $i (i32.const 0))
            (block $filled
              (loop $fill
                (br_if $filled (i32.ge_s (local.get $i) (local.get $m)))
                (i32.store (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))) (local.get $root))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $fill)))
            (local.set $d (i32.const 0))
            (block $levelsDone
              (loop $level
                (br_if $levelsDone (i32.ge_s (local.get $d) (local.get $depth)))
                (local.set $ip (local.get $idx))
                (local.set $ra (i32.add (local.get $rows) (i32.mul (local.get $s) (local.get $rowBytes))))
                (local.set $i (i32.const 0))
                (block $rowsDone
                  (loop $row
                    (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
                    (local.set $nd (i32.load (local.get $ip)))
                    (local.set $w (i32.load offset=4 (local.get $nd)))
                    (local.set $x (f32.load (i32.add (local.get $ra) (i32.and (local.get $w) (i32.const 0x3fffffff)))))
                    (if (i32.and (local.get $w) (i32.const 0x40000000))
                      (then
                        ;; categorical: missing takes the default child; a category in the set goes right, any other
                        ;; (an invalid one too: negative, or 2^24 and above) left; XGBoost truncates it to a whole number
                        (if (f32.ne (local.get $x) (local.get $x))
                          (then
                            (local.set $nd (select (i32.add (local.get $nd) (i32.const 16)) (i32.add (local.get $nodes) (i32.load offset=8 (local.get $nd))) (i32.shr_u (local.get $w) (i32.const 31)))))
                          (else
                            (local.set $set (i32.add (local.get $sets) (i32.load (local.get $nd))))
                            (local.set $c (i32.trunc_sat_f32_u (local.get $x)))
                            (if (i32.and
                                  (i32.and (f32.ge (local.get $x) (f32.const 0)) (f32.lt (local.get $x) (f32.const 16777216)))
                                  (i32.lt_u (i32.shr_u (local.get $c) (i32.const 5)) (i32.load (local.get $set))))
                              (then
                                (local.set $nd (select
                                  (i32.add (local.get $nodes) (i32.load offset=8 (local.get $nd)))
                                  (i32.add (local.get $nd) (i32.const 16))
                                  (i32.and (i32.shr_u (i32.load offset=4 (i32.add (local.get $set) (i32.shl (i32.shr_u (local.get $c) (i32.const 5)) (i32.const 2)))) (i32.and (local.get $c) (i32.const 31))) (i32.const 1)))))
                              (else (local.set $nd (i32.add (local.get $nd) (i32.const 16))))))))
                      (else
                        ;; numeric: left when x < threshold, or when x is missing (fails both comparisons) and the
                        ;; default is left
                        (local.set $h (f32.load (local.get $nd)))
                        (local.set $nd (select
                          (i32.add (local.get $nd) (i32.const 16))
                          (i32.add (local.get $nodes) (i32.load offset=8 (local.get $nd)))
                          (i32.or (f32.lt (local.get $x) (local.get $h))
                                  (i32.and (i32.shr_u (local.get $w) (i32.const 31)) (i32.eqz (f32.ge (local.get $x) (local.get $h)))))))))
                    (i32.store (local.get $ip) (local.get $nd))
                    (local.set $ip (i32.add (local.get $ip) (i32.const 4)))
                    (local.set $ra (i32.add (local.get $ra) (local.get $rowBytes)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $row)))
                (local.set $d (i32.add (local.get $d) (i32.const 1)))
                (br $level)))
            ;; the leaves' values into the block's sums
            (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $s) (local.get $outRow))) (i32.load offset=8 (local.get $tp))))
            (local.set $ip (local.get $idx))
            (local.set $i (i32.const 0))
            (block $added
              (loop $add
                (br_if $added (i32.ge_s (local.get $i) (local.get $m)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load offset=12 (i32.load (local.get $ip)))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (local.set $ip (i32.add (local.get $ip) (i32.const 4)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $add)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $eachTree)))
        (local.set $s (i32.add (local.get $s) (local.get $m)))
        (br $blocks)))
  )
)
