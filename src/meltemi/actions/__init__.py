"""The action contract, the std.* actions, ad-hoc actions and entry-point loading."""
