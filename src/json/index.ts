// Canonical JSON: object keys sorted at every level, so the same value always gives the same bytes (model ids and
// content hashes depend on it).

/** A copy of `value` with every object's keys sorted; arrays keep their order. Non-plain values go through JSON. */
export function sortKeys(value: unknown): unknown {
  const plain: unknown = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON: () => unknown }).toJSON() : value
  if (Array.isArray(plain)) return plain.map(sortKeys)
  if (plain !== null && typeof plain === 'object') {
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(plain).sort()) {
      const item = (plain as Record<string, unknown>)[key]
      if (item !== undefined) sorted[key] = sortKeys(item)
    }
    return sorted
  }
  return plain
}

/** JSON text with sorted keys; `indent` as in JSON.stringify. Non-finite numbers become null, as JSON.stringify does. */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent)
}
