"""Runtime: the case layer on SpiffWorkflow."""
