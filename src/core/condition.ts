// Analysis conditions like ">= 0.99": parsed once from the spec, evaluated against measured values.

export type Operator = '>=' | '<=' | '>' | '<' | '==' | '!=';

export interface Condition {
  op: Operator;
  value: number;
  /** The text as written, for status and history. */
  text: string;
}

const CONDITION = /^\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*$/i;

/**
 * parseCondition('>= 0.99') → { op: '>=', value: 0.99, text: '>= 0.99' }
 * parseCondition('fast')    → undefined
 */
export function parseCondition(text: string): Condition | undefined {
  const m = CONDITION.exec(text);
  if (!m || !m[1] || !m[2]) return undefined;
  return { op: m[1] as Operator, value: Number(m[2]), text: text.trim() };
}

/** Whether `measured` satisfies the condition. NaN satisfies nothing. */
export function holds(condition: Condition, measured: number): boolean {
  if (Number.isNaN(measured)) return false;
  switch (condition.op) {
    case '>=': return measured >= condition.value;
    case '<=': return measured <= condition.value;
    case '>': return measured > condition.value;
    case '<': return measured < condition.value;
    case '==': return measured === condition.value;
    case '!=': return measured !== condition.value;
  }
}
