// One Python process for many commands of a script: the script's `batch` mode reads a JSON array of arguments per line
// of stdin and writes one JSON line per command, {"out": <what the command printed>} or {"error": "..."}. Tests that
// run a script a dozen times use it to import scikit-learn once rather than per command (~2 s of CPU each).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'

/** /usr/bin/python3: Debian's, with scikit-learn, XGBoost, pandas, PyTorch and ONNX (the `python3` on PATH may be another). */
export const PYTHON = '/usr/bin/python3'

export class PythonBatch {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly waiting: { resolve: (out: string) => void; reject: (error: Error) => void }[] = []
  private readonly exited: Promise<void>

  constructor(
    private readonly script: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.child = spawn(PYTHON, [script, 'batch'], { env })
    let stderr = ''
    this.child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const answer = JSON.parse(line) as { out?: string; error?: string }
      const waiter = this.waiting.shift()
      if (answer.error !== undefined) waiter?.reject(new Error(`${this.script}: ${answer.error}`))
      else waiter?.resolve(answer.out!)
    })
    this.exited = new Promise((resolveExit) =>
      this.child.on('close', (code) => {
        for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`${this.script} batch exited with code ${code}:\n${stderr}`))
        resolveExit()
      }),
    )
  }

  /** What the script prints for these arguments; commands run one at a time, in the order given. */
  run(args: readonly string[]): Promise<string> {
    return new Promise((resolveOut, reject) => {
      this.waiting.push({ resolve: resolveOut, reject })
      this.child.stdin.write(`${JSON.stringify(args)}\n`)
    })
  }

  /** Ends the process once the commands given have run. */
  async close(): Promise<void> {
    this.child.stdin.end()
    await this.exited
  }
}
