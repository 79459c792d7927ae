//! How surely a step runs on change-request builds, shared by JK-001 and JK-009.

use std::ops::Range;

use crate::conditions::Reach;
use crate::model::{Model, Scope};

/// A step's exposure to change-request builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// A condition says change-request builds run it (`when { changeRequest() }`).
    Explicit(Option<Range<usize>>),
    /// The pipeline builds change requests (it reads `CHANGE_ID`, tests `changeRequest()`
    /// elsewhere…) and nothing keeps them away from this step.
    Implicit(Range<usize>),
    /// A condition keeps change-request builds away (`when { not { changeRequest() } }`,
    /// `branch 'main'`).
    Excluded(Option<Range<usize>>),
    /// Nothing shows that the pipeline builds change requests.
    Unshown,
}

impl Exposure {
    pub fn of(model: &Model<'_>, scope: &Scope) -> Exposure {
        match scope.gate.reach {
            Reach::Only | Reach::Possible => Exposure::Explicit(scope.gate.evidence.clone()),
            // An exclusion only matters in a pipeline that builds change requests at all.
            Reach::Excluded | Reach::NotChangeRequests
                if model.change_request_evidence.is_some() =>
            {
                Exposure::Excluded(scope.gate.evidence.clone())
            }
            Reach::Excluded | Reach::NotChangeRequests => Exposure::Unshown,
            Reach::Unknown => model
                .change_request_evidence
                .clone()
                .map_or(Exposure::Unshown, Exposure::Implicit),
        }
    }

    /// Higher is worse; used to pick the most exposed of several steps.
    pub fn rank(&self) -> u8 {
        match self {
            Exposure::Explicit(_) => 3,
            Exposure::Implicit(_) => 2,
            Exposure::Excluded(_) => 1,
            Exposure::Unshown => 0,
        }
    }
}
