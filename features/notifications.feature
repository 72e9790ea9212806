Feature: Notifications by e-mail
  As someone who works PI cycles, I hear by e-mail when a task waits for me: when it is
  assigned to me or becomes open to my group, when it falls overdue, and, if I ask for
  it, once a day what is on my list; in my own language, and only what I chose.

  Background:
    Given the Directorate of Planning has a PI unit, a department team and leadership
    And everyone has given their e-mail address
    And the PI unit has opened a cycle for the Directorate of Planning

  Scenario: The department team hears that the gap analysis waits for them
    When the PI unit completes the assessment
    And the worker makes its rounds
    Then dana and omar each get an e-mail "New task for Department Team: Identify gaps"
    And the e-mail links to the task
    And pia gets no e-mail

  Scenario: A microproject's owner hears it is theirs, and again when it falls overdue
    Given the department team has designed microprojects due in 10 days
    When leadership approves the design
    And the worker makes its rounds
    Then dana gets an e-mail "Assigned to you: Implement: Digital permit intake"
    When 11 days pass
    And the worker makes its rounds
    Then dana gets an e-mail "Overdue: Implement: Digital permit intake"
    When the worker makes its rounds again
    Then nobody gets another e-mail

  Scenario: Who asked for a daily digest gets one a day
    Given dana has asked for a daily digest
    And the PI unit has completed the assessment
    When the worker makes its rounds
    Then dana gets an e-mail "Your tasks on Mar 2, 2026" that lists "Identify gaps"
    And omar gets no digest
    When the worker makes its rounds again
    Then nobody gets another e-mail
    When a day passes
    And the worker makes its rounds
    Then dana gets an e-mail "Your tasks on Mar 3, 2026" that lists "Identify gaps"

  Scenario: Dana reads her e-mail in Arabic
    Given dana has chosen Arabic
    When the PI unit completes the assessment
    And the worker makes its rounds
    Then dana gets an e-mail "مهمة جديدة لـ Department Team: تحديد الفجوات" written right to left
    And omar gets an e-mail "New task for Department Team: Identify gaps"

  Scenario: Nobody gets what they turned off, nor without an address
    Given omar wants no e-mail when a task becomes open to his group
    And dana has removed her e-mail address
    When the PI unit completes the assessment
    And the worker makes its rounds
    Then dana gets no e-mail
    And omar gets no e-mail
    And no e-mail waits

  Scenario: An e-mail waits while the mail server is away, and goes once when it is back
    Given the mail server is away
    When the PI unit completes the assessment
    And the worker makes its rounds
    Then nobody gets an e-mail yet
    And 2 e-mails wait
    When the mail server is back and a few minutes pass
    And the worker makes its rounds
    Then dana and omar each get an e-mail "New task for Department Team: Identify gaps"
    When the worker makes its rounds again
    Then nobody gets another e-mail
