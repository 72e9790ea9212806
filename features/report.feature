Feature: Leadership report
  As leadership, I want one page per cycle that shows what the cycle achieved and what was
  decided, in my own language, so that I can take the results to the organisation.

  Background:
    Given the Directorate of Planning has worked a cycle in which leadership sent the design back once

  Scenario: The report shows the indicators before and after
    When the PI unit downloads the cycle's leadership report in English
    Then the report is one page
    And it shows Permits issued within 30 days (%) with baseline 55, target 80 and actual 82, target met
    And it shows Open complaints (cases) with baseline 120, target 60 and actual 55, target met

  Scenario: The report shows the microprojects and what each delivered
    When the PI unit downloads the cycle's leadership report in English
    Then it shows the microproject Digital permit intake owned by dana, delivering Online intake form in use
    And it shows the microproject Complaint triage desk owned by omar, delivering Daily triage rota
    And each microproject reads "Delivered: Done: Delivered"

  Scenario: The report shows the lessons learned and each decision with who made it and when
    When the PI unit downloads the cycle's leadership report in English
    Then it shows the lesson "Small steps work"
    And it shows that lena sent the design back with "Name who staffs the desk" and then approved it
    And each decision says when it was taken

  Scenario: An Arabic reader gets the report in Arabic, right to left
    When a leader downloads the cycle's leadership report asking for Arabic
    Then the report is one page
    And its title reads "تقرير القيادة" from the right-hand side of the page
    And it names the indicators, microprojects and people as they were recorded

  Scenario: Someone who cannot see the cycle gets no report
    When a department team member of the Directorate of Finance asks for the cycle's leadership report
    Then there is no such report for them
