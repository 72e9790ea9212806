Feature: Auditing the performance-improvement cycles
  As an auditor for the inspectorate, I trace what happened in every cycle: who decided
  what and when, on which data, and whether the record can be trusted. I read everything
  and change nothing.

  Background:
    Given the Directorate of Planning has run a whole cycle in which leadership sent the design back once
    And I am an auditor with an API token

  Scenario: Who approved the microprojects and when?
    When I read the history of the cycle
    Then leadership's decisions are in it in order: sent back with "Name the forms", then approved
    And each decision names who took it and when

  Scenario: Export the cycle for process mining
    When I export the audit trail as XES
    Then a process-mining tool reads one trace for the cycle
    And its activities run from "Assess performance" to "Institutionalise and share"
    And "Design microprojects" happened 2 times

  Scenario: Prove the record was not altered
    Given the record verifies as intact
    When someone changes who approved the design, behind the application's back
    Then verification says the record is no longer intact
    And it names the altered approval
