Feature: Running cycles move onto the model that finishes the method
  As an admin, I move the cycles that run on the previous version of the PI cycle onto
  the version that plans the next cycle; a cycle the new version cannot take stays where
  it is, and I am told why.

  Scenario: A cycle half-way moves; one implementing its microprojects stays, with the reason
    Given the Directorate of Planning's cycle runs on the previous model, awaiting leadership's approval
    And the Directorate of Finance's cycle runs on the previous model, implementing its microprojects
    When the admin moves every running cycle onto the shipped model
    Then the Directorate of Planning's cycle runs on the shipped model
    And once its design is approved, implemented and its targets met, the PI unit is asked to plan the next cycle
    And the Directorate of Finance's cycle stays on the previous model because the shipped one lacks 'implement_microproject' where it stands
