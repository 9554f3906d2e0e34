//! CNPG106: a 5-field (Unix) cron schedule, which CNPG reads seconds first.

use crate::cron::{self, Form};
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::BackupLike;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG106",
    name: "unix-cron-schedule",
    severity: Severity::Error,
    summary: "A ScheduledBackup schedule has 5 fields; CNPG reads them seconds first, so it fires far more often.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::ScheduledBackup) {
        let Some(schedule) = BackupLike(&doc.root).schedule() else {
            continue;
        };
        let Val::Known(spec) = schedule.value else {
            continue;
        };
        match cron::parse(spec) {
            Ok((parsed, Form::FiveFields)) => {
                let meant = cron::unix_to_cnpg(spec);
                let f = ctx.report(
                    Loc::value(i.doc, schedule.node),
                    format!(
                        "schedule `{spec}` has 5 fields, but CNPG's cron (robfig/cron v1.2.0) reads \
                         seconds first: it fires {}",
                        parsed.describe()
                    ),
                );
                f.object(inst);
                match meant {
                    Some(m) => {
                        f.help(format!(
                            "If `{spec}` is a Unix cron (minute hour day month weekday), write it \
                             with a leading seconds field: `{m}`."
                        ));
                    }
                    None => {
                        f.help("Write the schedule with 6 fields: second minute hour day month weekday.");
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                ctx.report(
                    Loc::value(i.doc, schedule.node),
                    format!(
                        "schedule `{spec}` does not parse as CNPG's cron ({}); the webhook rejects \
                         the ScheduledBackup",
                        e.message
                    ),
                )
                .object(inst)
                .help("Use 6 fields (second minute hour day month weekday) or a descriptor such as @daily.");
            }
        }
    }
}
