/*
 * fp-paths.c: where futured keeps its state by default, one answer for the
 * daemon (which creates the directory) and futurectl (which finds the
 * socket and the token there).
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

char *
fp_state_dir_default(void)
{
	const char	*s;
	struct passwd	*pw;
	char		*dir = NULL;

	/* systemd separates several StateDirectory= entries with ':'. */
	if ((s = getenv("STATE_DIRECTORY")) != NULL && *s != '\0')
		return strndup(s, strcspn(s, ":"));
	if (geteuid() == 0)
		return strdup("/var/lib/futured");
	/* The XDG spec says to ignore a relative XDG_STATE_HOME. */
	if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/') {
		if (asprintf(&dir, "%s/futured", s) == -1)
			return NULL;
		return dir;
	}
	if ((s = getenv("HOME")) == NULL || *s == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return NULL;
		s = pw->pw_dir;
	}
	if (asprintf(&dir, "%s/.local/state/futured", s) == -1)
		return NULL;
	return dir;
}
