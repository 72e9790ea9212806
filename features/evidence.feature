Feature: Evidence attached to the work
  As the PI unit, we attach what backs our figures to the task they belong to: the
  measurement sheet, a photo of the new checklist. Whoever may read the task may download
  it; the audit trail keeps each file's fingerprint, so an auditor can tell that the file
  is still the one that was attached.

  Background:
    Given the Directorate of Planning has a PI unit, a department team and leadership
    And the PI unit has opened a cycle for the Directorate of Planning

  Scenario: The PI unit backs its assessment with the measurement sheet
    When Pia attaches the measurement sheet "baselines.csv" to the assessment
    Then the assessment lists "baselines.csv" with its size and fingerprint
    And the audit trail records that Pia attached "baselines.csv", with its size, type and fingerprint
    And an auditor downloads exactly the sheet that was attached

  Scenario: A program dressed up as a photo is refused
    When Pia attaches a program named "checklist.png" to the assessment
    Then she is told the file is a program, which is not kept as evidence
    And nothing is attached to the assessment

  Scenario: A file over the size limit is refused
    Given evidence files may be at most 1000 bytes
    When Pia attaches a photo of 5000 bytes to the assessment
    Then she is told the file is larger than 1,000 bytes
    And nothing is attached to the assessment

  Scenario: The same file is attached once
    Given Pia has attached the photo "checklist.png" to the assessment
    When Pim attaches the same photo as "checklist copy.png"
    Then he is told it is attached already as "checklist.png"
    And the assessment lists only "checklist.png"

  Scenario: A name that tries to reach other folders is kept as a plain name
    When Pia attaches the measurement sheet "../../etc/baselines.csv" to the assessment
    Then the assessment lists "baselines.csv" with its size and fingerprint

  Scenario: Someone the task is not for cannot download its evidence
    Given Pia has attached the photo "checklist.png" to the assessment
    When Lena of leadership asks for that file by its number
    Then she is refused and receives nothing

  Scenario Outline: A stored file changed or removed behind the application's back is found out
    Given Pia has attached the measurement sheet "baselines.csv" to the assessment
    And the record verifies as intact
    When someone <tampers with> the stored sheet behind the application's back
    Then verification says the record is no longer intact
    And it names "baselines.csv", the assessment and the cycle, as <found>

    Examples:
      | tampers with | found   |
      | changes      | changed |
      | deletes      | missing |
