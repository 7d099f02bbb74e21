/* cpus.h — how many CPUs kgate may use, for the default number of workers.
 *
 * The affinity mask (taskset, a cpuset) says which CPUs the process may run
 * on; a CPU quota in its cgroup (a container's or a pod's CPU limit: cgroup
 * v2's cpu.max, v1's cpu.cfs_quota_us over cpu.cfs_period_us) says how much
 * of them it may use.  A pod limited to 2 CPUs on a 64-core node sees 64 in
 * its mask: 64 threads would each be throttled and hold their own buffers,
 * so the quota, rounded up, caps the count.
 */
#ifndef KGATE_CPUS_H
#define KGATE_CPUS_H

/* CPUs in this process's affinity mask, capped by its cgroup's CPU quota
 * (rounded up); at least 1. */
unsigned cpus_available(void);
/* The CPUs a quota of "QUOTA PERIOD" (microseconds, as cgroup v2's cpu.max
 * writes it) allows, rounded up; 0 for no quota ("max", a negative quota as
 * v1 writes it, or text that is neither). */
unsigned cpus_quota(const char *text);

#endif
