// RUN: nl-opt --help | FileCheck %s
// RUN: nl-opt --help-list | FileCheck %s --check-prefix=LIST

// CHECK: OVERVIEW: nl-opt: the nl dialect's pass driver
// CHECK: --nl-verify-schedule
// CHECK-SAME: Compute every level's effective period and the global schedule
// CHECK: --max-hyper-period=
// CHECK: --remarks

// LIST: --nl-verify-schedule
