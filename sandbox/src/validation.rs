// TEMPORARY stub until the real module lands. Not to be committed.
pub fn validate(_g: &str, _v: &str, _k: &str, _o: &serde_json::Value, _old: Option<&serde_json::Value>) -> Vec<crate::status::FieldError> {
    Vec::new()
}
