pub fn name() -> &'static str { "service" }
