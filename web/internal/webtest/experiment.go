package webtest

// ExperimentCadence is a cadence file with a champion/challenger test of
// its late SMS (arms kind and firm on the promise rate, 50 per arm to
// decide), assigning from 2026-06-01: the fixture of the console's and the
// lender API's experiment tests.
const ExperimentCadence = `name: late-test
profile: us
applies_to:
  portfolios: [auto]
  days_past_due: {min: -5, max: 30}
steps:
  - id: late-sms
    day: 1
    at: "10:00"
    channel: sms
    template: late_sms
experiment:
  name: firm-late-sms
  start: 2026-06-01
  primary_metric: promise_rate
  stop:
    min_per_arm: 50
  arms:
    - name: kind
      weight: 1
    - name: firm
      weight: 1
      steps:
        - id: late-sms
          template: late_firm_sms
`
