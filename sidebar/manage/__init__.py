"""The branch manager's workbench (网点管理): funnel, live openings, SOP and material reach, scorecard, wall."""
