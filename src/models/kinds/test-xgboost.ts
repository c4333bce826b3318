// Hand-written XGBoost models, as XGBoost 1.7's save_model writes them: for the xgboost kind's tests and those of
// `mlskel models import`, which need a real XGBoost file without XGBoost.

/** A node of a hand-written tree: a leaf value, or a split (numeric threshold `t`, or categorical set `cats`). */
export type Node = { leaf: number } | { f: number; t?: number; cats?: number[]; left: Node; right: Node; defaultLeft?: boolean; gain?: number }

/** XGBoost's arrays for a tree, numbered breadth first as XGBoost numbers them. */
export function treeJson(root: Node, id: number, features: number): Record<string, unknown> {
  const order: Node[] = [root]
  const children: [number, number][] = []
  for (let i = 0; i < order.length; i++) {
    const node = order[i]!
    if ('leaf' in node) {
      children.push([-1, -1])
      continue
    }
    children.push([order.length, order.length + 1])
    order.push(node.left, node.right)
  }
  const split = (node: Node) => ('leaf' in node ? null : node)
  const categorical = order.map((node, i) => [i, split(node)?.cats] as const).filter(([, cats]) => cats !== undefined) as [number, number[]][]
  const segments: number[] = []
  let at = 0
  for (const [, cats] of categorical) {
    segments.push(at)
    at += cats.length
  }
  return {
    base_weights: order.map(() => 0),
    categories: categorical.flatMap(([, cats]) => cats),
    categories_nodes: categorical.map(([i]) => i),
    categories_segments: segments,
    categories_sizes: categorical.map(([, cats]) => cats.length),
    default_left: order.map((node) => (split(node)?.defaultLeft ? 1 : 0)),
    id,
    left_children: children.map(([l]) => l),
    loss_changes: order.map((node) => split(node)?.gain ?? 0),
    parents: order.map(() => 2147483647),
    right_children: children.map(([, r]) => r),
    split_conditions: order.map((node) => ('leaf' in node ? node.leaf : node.cats ? Number.NaN : node.t!)),
    split_indices: order.map((node) => split(node)?.f ?? 0),
    split_type: order.map((node) => (split(node)?.cats ? 1 : 0)),
    sum_hessian: order.map(() => 1),
    tree_param: { num_deleted: '0', num_feature: String(features), num_nodes: String(order.length), size_leaf_vector: '0' },
  }
}

export interface HandModel {
  objective?: string
  trees: Node[]
  treeInfo?: number[]
  numClass?: number
  baseScore?: string
  features?: number
  names?: string[]
  types?: string[]
  attributes?: Record<string, string>
}

/** An XGBoost 1.7 JSON model, as save_model writes it. */
export function xgbModel(o: HandModel): Record<string, unknown> {
  const features = o.features ?? 3
  return {
    learner: {
      attributes: o.attributes ?? {},
      feature_names: o.names ?? [],
      feature_types: o.types ?? [],
      gradient_booster: {
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: String(o.trees.length), size_leaf_vector: '0' },
          tree_info: o.treeInfo ?? o.trees.map(() => 0),
          trees: o.trees.map((t, i) => treeJson(t, i, features)),
        },
        name: 'gbtree',
      },
      learner_model_param: { base_score: o.baseScore ?? '5E-1', boost_from_average: '1', num_class: String(o.numClass ?? 0), num_feature: String(features), num_target: '1' },
      objective: { name: o.objective ?? 'reg:squarederror', reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 4],
  }
}

