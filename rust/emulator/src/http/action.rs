//! How a state-changing broker request runs, whatever its API flavour: under the state's lock
//! it is counted for its session, prepared, given its injected fault (after its checks), then
//! applied unless the fault stops it, and recorded in the activity record. The flavour writes
//! the outcome in its own shape.

use super::app::App;
use crate::clock::now_rfc3339_millis;
use crate::knobs::activity::{Done, SessionTarget};
use crate::knobs::fault_sequence::Fault;
use crate::knobs::faults::FaultRoute;
use crate::model::{Action, Seed};

/// One state-changing request, as [`StateAction::run`] carries it out; `E` is the error its
/// checks fail with (the flavour's).
pub(crate) struct StateAction<'a, T, R, E, P, C, A>
where
    P: FnOnce(&str) -> T,
    C: FnOnce(&mut Seed, &T) -> Result<(), E>,
    A: FnOnce(&mut Seed, T) -> Result<(Option<Done>, R), E>,
{
    /// The route, as fault injection names it.
    pub fault_route: FaultRoute,
    /// The session action and the session it names, counted in `callsPerSession` (a request
    /// that names no session, or no parsable one, is not counted).
    pub counted: Option<(SessionTarget<'a>, Action)>,
    /// The session actions are recorded under (`logoffs`, ...), when the action names one.
    pub target: Option<SessionTarget<'a>>,
    /// Builds what the action needs from the current time (RFC 3339 with milliseconds).
    pub prepare: P,
    /// The action's checks, run only when the route is a fault candidate.
    pub check: C,
    /// Carries out the action: what to record in the activity record, and the result.
    pub apply: A,
}

/// What became of a state-changing request that passed its checks.
#[derive(Debug)]
pub(crate) struct Outcome<R> {
    /// The injected fault, if any.
    pub fault: Option<Fault>,
    /// The action's result; `None` when the fault stopped the action.
    pub result: Option<R>,
}

impl<T, R, E, P, C, A> StateAction<'_, T, R, E, P, C, A>
where
    P: FnOnce(&str) -> T,
    C: FnOnce(&mut Seed, &T) -> Result<(), E>,
    A: FnOnce(&mut Seed, T) -> Result<(Option<Done>, R), E>,
{
    /// Runs the action under the state's lock: counts the request for its session, prepares
    /// what the action needs, draws the request's fault (after the checks), applies the action
    /// unless the fault stops it and records it in the activity record.
    pub(crate) fn run(self, app: &App) -> Result<Outcome<R>, E> {
        let Self {
            fault_route,
            counted,
            target,
            prepare,
            check,
            apply,
        } = self;
        app.state.with(|inner| {
            if let Some((target, action)) = counted {
                inner.activity.count(target, action);
            }
            // Taken under the lock, so the activity record is in time order.
            let now = now_rfc3339_millis();
            let prepared = prepare(&now);
            let fault = inner.draw_fault(fault_route, |seed| check(seed, &prepared))?;
            if fault.is_some_and(Fault::blocks_action) {
                return Ok(Outcome {
                    fault,
                    result: None,
                });
            }
            let (done, result) = apply(&mut inner.seed, prepared)?;
            if let (Some(target), Some(done)) = (target, done) {
                inner.activity.record(target, done, now);
            }
            Ok(Outcome {
                fault,
                result: Some(result),
            })
        })
    }
}
