"""The exchange: the data plane every inquiry between agencies passes through."""
