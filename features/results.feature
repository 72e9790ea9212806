Feature: Results across cycles
  As a PI unit, I want to see what each unit's cycles achieved, cycle after cycle, and to
  compare the units of the organisation, so that improving stays a habit and a unit that
  stops is noticed.

  Background:
    Given the Ministry of Public Works with the Directorate of Planning and the Directorate of Finance below it

  Scenario: A unit's indicator, cycle after cycle
    Given the Directorate of Planning has worked three cycles on permits issued within 30 days:
      | cycle | baseline | target | actual |
      | 1     | 55       | 80     | 70     |
      | 2     | 70       | 80     | 82     |
      | 3     | 82       | 90     | 91     |
    When the PI unit reads the results of the Directorate of Planning
    Then permits issued within 30 days read, cycle after cycle:
      | cycle | baseline | target | actual | met |
      | 1     | 55       | 80     | 70     | no  |
      | 2     | 70       | 80     | 82     | yes |
      | 3     | 82       | 90     | 91     | yes |
    And 6 gaps were found and 4 of them closed

  Scenario: A ministry's results take in its directorates
    Given the Directorate of Planning and the Directorate of Finance have each worked a cycle
    When the PI unit reads the results of the Ministry of Public Works with the units below it
    Then it sees the cycles of the Directorate of Planning and of the Directorate of Finance
    But the Ministry's own results have no cycles

  Scenario: The share of microprojects reported on time
    Given the Directorate of Planning has worked a cycle whose microprojects were reported on time
    And a cycle whose microprojects were reported 5 days late
    When the PI unit compares the units
    Then the Directorate of Planning has reported 2 of 4 microprojects on time, a share of 50%

  Scenario: A unit that has gone quiet is flagged
    Given the Directorate of Planning and the Directorate of Finance have each worked a cycle
    And 200 days later the Directorate of Finance starts its next cycle
    When the PI unit compares the units
    Then the Directorate of Planning is flagged as quiet
    But the Directorate of Finance is not
    And the Ministry of Public Works, which never ran a cycle, is not

  Scenario: A member of another unit may not see a unit's results
    Given the Directorate of Planning has worked a cycle
    And fred is a member of the Department Team in the Directorate of Finance
    When fred asks for the results of the Directorate of Planning
    Then he is refused, told that none of his groups is in that unit
    And comparing the units, fred sees the Directorate of Finance only
