Feature: Keeping the process models current
  As an admin, I keep the PI cycle's model in step with the method: I change a form and a
  decision rule, let the validator catch my mistakes before anything is deployed, deploy
  the fixed version and move the running cycles onto it. Every step is on the audit trail.

  Background:
    Given I am an admin with an API token
    And the Directorate of Planning is assessing its performance
    And the Directorate of Finance is identifying its gaps

  Scenario: A changed form and decision rule reach the running cycles
    Given I have drafted a new version: the assessment asks where each indicator's data comes from, and a high-impact gap that takes much effort becomes high priority
    When I upload the draft with a JUEL condition, a form that does not exist and a task nobody can reach
    Then the upload is refused, naming each mistake with its file, line and element
    And nothing new is deployed
    When I fix the draft and deploy it
    Then version 2 of the PI cycle is deployed
    And the difference from version 1 shows the changed assessment form and the changed priority rule
    When I move the running cycles onto the latest version
    Then both cycles run on version 2
    And the Directorate of Planning can record where each indicator's data comes from
    And the Directorate of Finance's high-impact gap that takes much effort is high priority
    And the audit trail shows that I deployed version 2 and then moved each cycle from version 1 to 2

  Scenario: A cycle the new version cannot hold stays where it is
    Given I have deployed a version 2 that renames the assessment step
    When I move the Directorate of Planning's cycle onto version 2
    Then the move is refused because the cycle waits at "assess_performance"
    And the Directorate of Planning's cycle still runs on version 1
    And the audit trail shows no move
