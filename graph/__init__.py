"""The support desk's state machine: state, context, handoff records, routing and the builder."""
