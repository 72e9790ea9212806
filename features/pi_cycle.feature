Feature: Running a performance-improvement cycle
  As the PI unit of a directorate, we take its department through the whole cycle:
  assess performance, identify the gaps, design microprojects, get leadership's approval,
  implement, evaluate, and make the new practice the standard.

  Background:
    Given the Directorate of Planning has a PI unit, a department team and leadership
    And the PI unit has opened a cycle for the Directorate of Planning

  Scenario: A whole cycle, from assessment to a standardised practice
    When the PI unit assesses permits at 55 % against a target of 80 %
    And the department team names the causes of the gaps
    And the department team designs microprojects due in 30 days
    And leadership approves the design
    And every owner reports their microproject done
    And the PI unit measures permits at 82 % and open complaints at 55 cases
    And leadership standardises the new practice
    And the PI unit plans the next cycle to start in 30 days
    Then the cycle is completed with its targets met
    And the audit trail names who completed each step

  Scenario: Leadership sends a design back with a comment
    Given the department team has designed microprojects due in 30 days
    When leadership rejects the design with "Name who staffs the triage desk"
    Then the department team has the design back with the comment "Name who staffs the triage desk"
    And no microproject is being implemented

  Scenario: Targets not met send the department back to gap analysis
    Given the microprojects have been implemented
    When the PI unit measures permits at 70 % and open complaints at 90 cases
    Then the department team is asked to identify the gaps again
    And the gap on permits is now 10

  Scenario: An overdue microproject is escalated to the PI unit
    Given the department team has designed microprojects due in 10 days
    And leadership approves the design
    When 11 days pass
    Then the PI unit is asked to follow up 2 overdue microprojects
    And the owners still have their microprojects to finish

  Scenario: A microproject that is too big is refused
    Given the department team has named the causes of the gaps
    When the department team proposes a microproject due in 200 days
    Then the design is refused because the microproject is too big
    And the design is still waiting in the department team's inbox
