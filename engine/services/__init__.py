"""Use cases: plain functions over a unit of work, each taking the acting user."""
