//! Query cost and the leaky bucket behind `extensions.cost`.
//!
//! Scalars and enums cost 0 and objects 1. A connection costs 2 plus its page size
//! (`first` or `last`) times the cost of one node, and each mutation field costs 10.
//! NOTE: these weights follow Shopify's published rate-limit rules as remembered, not a
//! checked copy. Real costs differ in detail, so tests should not compare exact numbers
//! with production.

use std::collections::HashSet;
use std::time::Instant;

use apollo_compiler::ast::Value as AstValue;
use apollo_compiler::executable::Operation;
use apollo_compiler::executable::{Field, OperationType, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{json, Value};

/// Cost of each root field of a mutation.
pub const MUTATION_FIELD_COST: u64 = 10;
/// Largest cost a single query may request.
pub const MAX_SINGLE_QUERY_COST: u64 = 1000;

/// Computes the requested cost of `operation` with its coerced variable values.
pub fn requested_cost(
    schema: &Schema,
    document: &ExecutableDocument,
    operation: &Operation,
    variables: &JsonMap,
) -> u64 {
    let calculator = Calculator {
        schema,
        document,
        variables,
    };
    if operation.operation_type == OperationType::Mutation {
        let mut fields = Vec::new();
        calculator.root_fields(&operation.selection_set, &mut fields, &mut HashSet::new());
        return fields.len() as u64 * MUTATION_FIELD_COST;
    }
    calculator.selection_set_cost(&operation.selection_set, &mut HashSet::new())
}

struct Calculator<'a> {
    schema: &'a Schema,
    document: &'a ExecutableDocument,
    variables: &'a JsonMap,
}

impl<'a> Calculator<'a> {
    fn root_fields(
        &self,
        selection_set: &'a SelectionSet,
        fields: &mut Vec<&'a Field>,
        visited: &mut HashSet<&'a str>,
    ) {
        for selection in &selection_set.selections {
            match selection {
                Selection::Field(field) => fields.push(field),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = spread.fragment_def(self.document) {
                        if visited.insert(fragment.name.as_str()) {
                            self.root_fields(&fragment.selection_set, fields, visited);
                        }
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.root_fields(&inline.selection_set, fields, visited)
                }
            }
        }
    }

    /// `path` holds the fragments being expanded. Validation keeps fragments acyclic, so
    /// the check only guards against a validation bug.
    fn selection_set_cost(
        &self,
        selection_set: &'a SelectionSet,
        path: &mut HashSet<&'a str>,
    ) -> u64 {
        let mut cost = 0;
        for selection in &selection_set.selections {
            cost += match selection {
                Selection::Field(field) => self.field_cost(field, path),
                Selection::FragmentSpread(spread) => match spread.fragment_def(self.document) {
                    Some(fragment) if path.insert(fragment.name.as_str()) => {
                        let cost = self.selection_set_cost(&fragment.selection_set, path);
                        path.remove(fragment.name.as_str());
                        cost
                    }
                    _ => 0,
                },
                Selection::InlineFragment(inline) => {
                    self.selection_set_cost(&inline.selection_set, path)
                }
            };
        }
        cost
    }

    fn field_cost(&self, field: &'a Field, path: &mut HashSet<&'a str>) -> u64 {
        let type_name = field.definition.ty.inner_named_type();
        let composite = matches!(
            self.schema.types.get(type_name),
            Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        if !composite {
            return 0;
        }
        let children = field
            .selection_set
            .as_ref()
            .map_or(0, |nested| self.selection_set_cost(nested, path));
        if type_name.ends_with("Connection") {
            let page_size = self
                .int_argument(field, "first")
                .or_else(|| self.int_argument(field, "last"))
                .unwrap_or(1);
            2 + page_size * children
        } else {
            1 + children
        }
    }

    fn int_argument(&self, field: &Field, name: &str) -> Option<u64> {
        let argument = field
            .arguments
            .iter()
            .find(|argument| argument.name == name)?;
        match argument.value.as_ref() {
            AstValue::Int(number) => number.try_to_i32().ok().and_then(|n| u64::try_from(n).ok()),
            AstValue::Variable(variable) => self
                .variables
                .get(variable.as_str())
                .and_then(|value| value.as_u64()),
            _ => None,
        }
    }
}

/// A leaky bucket of query cost points, refilled continuously at `restore_rate` per second.
#[derive(Debug)]
pub struct Bucket {
    maximum: f64,
    restore_rate: f64,
    available: f64,
    updated: Instant,
}

impl Bucket {
    pub fn new(maximum: f64, restore_rate: f64) -> Self {
        Self {
            maximum,
            restore_rate,
            available: maximum,
            updated: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.available = (self.available + elapsed * self.restore_rate).min(self.maximum);
        self.updated = now;
    }

    /// Takes `cost` points if that many are available.
    pub fn try_take(&mut self, cost: u64) -> bool {
        self.refill();
        if cost as f64 > self.available {
            return false;
        }
        self.available -= cost as f64;
        true
    }

    pub fn refill_to_maximum(&mut self) {
        self.available = self.maximum;
        self.updated = Instant::now();
    }

    /// Returns the `extensions.cost` object. `currently_available` overrides the bucket's
    /// level, which a simulated THROTTLED response sets to 0.
    pub fn cost_extension(
        &mut self,
        requested: u64,
        actual: Option<u64>,
        currently_available: Option<f64>,
    ) -> Value {
        self.refill();
        let available = currently_available.unwrap_or(self.available).floor();
        json!({
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": available as u64,
                "restoreRate": self.restore_rate,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rejects_cost_above_level() {
        let mut bucket = Bucket::new(20.0, 0.0);
        assert!(bucket.try_take(15));
        assert!(!bucket.try_take(10));
        assert!(bucket.try_take(5));
    }
}
