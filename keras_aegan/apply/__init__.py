"""`apply`: a trained run's model on a user's own files."""
