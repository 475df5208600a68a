// Query templates: {{service}}, {{version}}, {{color}}, {{baselineColor}}, {{namespace}}, and for a
// release across clusters {{cluster}} (the spec's name of the cluster whose release is measured).

export type TemplateVars = Partial<Record<'service' | 'version' | 'color' | 'baselineColor' | 'namespace' | 'cluster', string>>;

/**
 * renderQuery('up{service="{{service}}",color="{{color}}"}', { service: 'checkout', color: 'green' })
 *   → 'up{service="checkout",color="green"}'
 * renderQuery('up{cluster="{{cluster}}",color="{{color}}"}', { cluster: 'eu-1', color: 'blue' })
 *   → 'up{cluster="eu-1",color="blue"}'
 * Unknown or missing variables are left as they are, so the query fails visibly in Prometheus.
 */
export function renderQuery(template: string, vars: TemplateVars): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => {
    const value = (vars as Record<string, string | undefined>)[name];
    return value ?? whole;
  });
}
