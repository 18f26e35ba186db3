/* pm_report_tree.h — the terminal report's per-thread call trees
 * (internal, pm_report_tree.c), printed by pm_report.c. */
#ifndef PM_REPORT_TREE_H
#define PM_REPORT_TREE_H

#include "pm_report_cells.h"

int pm_report_trees(pm_rep *r);

#endif
