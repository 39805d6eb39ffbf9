// damonctl's commands: each takes its arguments and returns the exit code
// (or throws Failure).
#pragma once

#include "cli.hpp"

namespace damonctl {

int cmd_status(Args& a);
int cmd_show(Args& a);
int cmd_pause(Args& a);
int cmd_resume(Args& a);
int cmd_remove(Args& a);
int cmd_create(Args& a);
int cmd_commit(Args& a);
int cmd_reload(Args& a);
int cmd_snapshot(Args& a);
int cmd_heatmap(Args& a);
int cmd_watch(Args& a);
int cmd_app(Args& a);
int cmd_hold(Args& a);
int cmd_import_damo(Args& a);
int cmd_export_damo(Args& a);
int cmd_metrics(Args& a);
int cmd_history(Args& a);
int cmd_report(Args& a);
// For bash completion: `damonctl complete contexts|apps`.
int cmd_complete(Args& a);

}  // namespace damonctl
