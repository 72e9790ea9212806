Feature: The cycle becomes the organisation's habit
  As the PI unit, we end every cycle by planning the next one, so the unit keeps
  improving without anyone having to remember, and we can move or call off that plan
  until it starts; what worked is kept even when other
  targets are missed; an agreed new due date really becomes the due date; and no cycle
  goes round in circles for ever.

  Background:
    Given the Directorate of Planning has a PI unit, a department team and leadership
    And the PI unit has opened a cycle for the Directorate of Planning

  Scenario: The next cycle starts by itself on the planned date, from this cycle's results
    Given the cycle has met its targets with permits at 82 % and open complaints at 55 cases
    When the PI unit plans the next cycle "Faster permits, round 2" to start in 14 days
    Then the cycle is completed and the next cycle is planned for that date
    When 13 days pass
    Then the Directorate of Planning has no new cycle yet
    When 1 more day passes
    Then cycle 2 "Faster permits, round 2" has started for the Directorate of Planning
    And its assessment starts from permits at 82 % and open complaints at 55 cases
    And the audit trail says the planned cycle was started

  Scenario: A planned cycle does not start while another cycle of the unit runs
    Given the cycle has met its targets with permits at 82 % and open complaints at 55 cases
    And the PI unit has planned the next cycle to start in 14 days
    And the PI unit has started the next cycle by hand
    When 14 days pass
    Then no other cycle has started for the Directorate of Planning
    And the audit trail says the planned cycle was skipped because cycle 2 is already running

  Scenario: The PI unit moves the planned cycle to a later date and retitles it
    Given the cycle has met its targets with permits at 82 % and open complaints at 55 cases
    And the PI unit has planned the next cycle to start in 14 days
    When the PI unit moves the next cycle to start in 30 days as "Faster permits, after the audit"
    And 14 days pass
    Then the Directorate of Planning has no new cycle yet
    When 16 days pass
    Then cycle 2 "Faster permits, after the audit" has started for the Directorate of Planning

  Scenario: A planned cycle the PI unit calls off never starts
    Given the cycle has met its targets with permits at 82 % and open complaints at 55 cases
    And the PI unit has planned the next cycle to start in 14 days
    When the PI unit calls off the next cycle because "The directorate merges with Finance"
    And 30 days pass
    Then the Directorate of Planning has no new cycle yet
    And the audit trail says the PI unit called off the planned cycle and why

  Scenario: What worked is institutionalised when only some targets are met
    Given the microprojects have been implemented
    When the PI unit measures permits at 82 % and open complaints at 90 cases
    Then leadership is asked to institutionalise what worked on permits
    When leadership standardises the new practice
    Then the department team is asked to identify the gap on open complaints alone

  Scenario: A new due date agreed in a follow-up becomes the microproject's due date
    Given the department team has designed microprojects due in 10 days
    And leadership approves the design
    And 11 days pass
    When the PI unit agrees with dana on a new due date 14 days away
    Then dana's microproject is due in 14 days in her inbox
    And omar's microproject is still due on the old date
    When 15 days pass
    Then the PI unit is asked to follow up dana's microproject again

  Scenario: A design sent back five times goes to leadership's decision, not round again
    Given the department team has named the causes of the gaps
    When leadership sends the design back 5 times
    Then leadership is asked to decide on the cycle
    When leadership decides to continue in the next cycle
    Then the PI unit is asked to plan the next cycle
