"""Training: the cache -> fixed-shape batches -> one jitted train_step -> checkpoints and export."""
