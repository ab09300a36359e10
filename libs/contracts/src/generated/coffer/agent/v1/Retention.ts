// Original file: proto/coffer/agent/v1/agent_gateway.proto


export interface Retention {
  'keepLast'?: (number);
  'keepHourly'?: (number);
  'keepDaily'?: (number);
  'keepWeekly'?: (number);
  'keepMonthly'?: (number);
  'keepYearly'?: (number);
  'keepWithin'?: (string);
}

export interface Retention__Output {
  'keepLast': (number);
  'keepHourly': (number);
  'keepDaily': (number);
  'keepWeekly': (number);
  'keepMonthly': (number);
  'keepYearly': (number);
  'keepWithin': (string);
}
