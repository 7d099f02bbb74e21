/* cpus.c — the affinity mask and the cgroup CPU quota (see cpus.h). */
#include "cpus.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

unsigned cpus_quota(const char *text)
{
	long long quota, period;
	char *end;

	quota = strtoll(text, &end, 10);
	if (end == text || quota <= 0)
		return 0; /* "max", v1's -1, or nothing readable */
	period = strtoll(end, &end, 10);
	if (period <= 0 || (*end && *end != '\n'))
		return 0;
	return (unsigned)((quota + period - 1) / period);
}

/* The first line of path into buf; 0, or -1 if it cannot be read. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

/* The quota of the cgroup at dir (v2: cpu.max; v1: the cfs pair), in CPUs,
 * or 0 for none or unreadable. */
static unsigned dir_quota(const char *dir, int v2)
{
	char path[512], q[64], p[64], text[160];

	if (v2) {
		snprintf(path, sizeof(path), "%s/cpu.max", dir);
		return read_line(path, text, sizeof(text)) == 0 ? cpus_quota(text) : 0;
	}
	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
	if (read_line(path, q, sizeof(q)) < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
	if (read_line(path, p, sizeof(p)) < 0)
		return 0;
	q[strcspn(q, "\n")] = '\0';
	snprintf(text, sizeof(text), "%s %s", q, p);
	return cpus_quota(text);
}

/* 1 if the comma-separated controller list (up to its ':') has "cpu". */
static int has_cpu(const char *list)
{
	char buf[256], *save = NULL;
	size_t n = strcspn(list, ":");

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, list, n);
	buf[n] = '\0';
	for (char *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save))
		if (strcmp(c, "cpu") == 0)
			return 1;
	return 0;
}

/* The smallest quota (in CPUs; 0: none) of the cgroup at path under mount
 * and of every parent up to the mount's root: a limit set on a parent (a
 * systemd slice, a pod over its containers) binds too.  A path that does
 * not exist under the mount (a container that sees only its own cgroup, at
 * the root) just yields the levels that do. */
static unsigned tree_quota(const char *mount, const char *path, int v2)
{
	char dir[1536];
	unsigned best = 0;
	size_t root_len;

	snprintf(dir, sizeof(dir), "%s%s", mount, strcmp(path, "/") ? path : "");
	root_len = strlen(mount);
	for (;;) {
		unsigned q = dir_quota(dir, v2);
		char *slash;

		if (q && (!best || q < best))
			best = q;
		if (strlen(dir) <= root_len)
			break;
		slash = strrchr(dir + root_len, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return best;
}

/* The CPU quota of this process's cgroups, in CPUs; 0 for none. */
static unsigned cgroup_quota(void)
{
	static const char *const v1_mounts[] = {CGROUP_ROOT "/cpu", CGROUP_ROOT "/cpu,cpuacct"};
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[1024];
	unsigned best = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path;
		unsigned q = 0;

		if (!ctl || !(path = strchr(ctl + 1, ':')))
			continue;
		ctl++;
		path++;
		path[strcspn(path, "\n")] = '\0';
		if (ctl == path - 1) /* "0::/path": cgroup v2 */
			q = tree_quota(CGROUP_ROOT, path, 1);
		else if (has_cpu(ctl))
			for (size_t i = 0; !q && i < sizeof(v1_mounts) / sizeof(v1_mounts[0]); i++)
				q = tree_quota(v1_mounts[i], path, 0);
		if (q && (!best || q < best))
			best = q;
	}
	fclose(f);
	return best;
}

unsigned cpus_available(void)
{
	cpu_set_t set;
	unsigned n = 1, quota = cgroup_quota();
	int c;

	long online;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && (c = CPU_COUNT(&set)) > 0)
		n = (unsigned)c;
	else if ((online = sysconf(_SC_NPROCESSORS_ONLN)) > 0) /* more CPUs than a cpu_set_t */
		n = (unsigned)online;
	return quota && quota < n ? quota : n;
}
