Feature: Units as a tree, and group memberships that hold in a unit
  As a ministry with several directorates, I want each directorate's team to see and work
  only its own cycles, while the PI unit and leadership at the ministry serve every
  directorate below it.

  Background:
    Given the Ministry of Public Works with the Directorates of Planning and of Finance below it
    And these people:
      | name  | group           | unit                     |
      | paula | PI Unit         | Ministry of Public Works |
      | dina  | Department Team | Directorate of Planning  |
      | fred  | Department Team | Directorate of Finance   |
      | leila | Leadership      | Ministry of Public Works |
    And each directorate has a cycle running

  Scenario: A directorate's team works its own tasks and cannot find the other's
    Given each directorate has assessed its performance
    When dina opens her inbox
    Then she sees the gap analysis of the Directorate of Planning only
    And she completes the gap analysis of the Directorate of Planning
    But the gap analysis of the Directorate of Finance is not found for her, to read, claim or complete

  Scenario: The ministry's PI unit serves both directorates
    When paula opens her inbox
    Then she sees the assessment of the Directorate of Planning and of the Directorate of Finance
    And the ministry's cycles are those of both directorates

  Scenario: Leadership of the ministry approves a directorate's design
    Given the Directorate of Planning has designed its microprojects
    When leila approves the design of the Directorate of Planning
    Then the cycle of the Directorate of Planning moves on to implementing its microprojects

  Scenario: A membership removed takes effect on the next request
    Given each directorate has assessed its performance
    And dina sees the gap analysis of the Directorate of Planning
    When an admin removes dina's membership of the Department Team in the Directorate of Planning
    Then on her next request the gap analysis of the Directorate of Planning is not found for her
    And her inbox is empty
