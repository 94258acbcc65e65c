/*
 * http-assets.h: the dashboard's files (ui/), compiled in: generated as
 * http-assets.c by scripts/embed-assets.sh.
 */
#ifndef FUTURED_HTTP_ASSETS_H
#define FUTURED_HTTP_ASSETS_H

#include <stddef.h>

struct http_asset {
	const char		*name;		/* path under ui/ */
	const char		*type;		/* Content-Type */
	const unsigned char	*data;
	size_t			 len;
};
extern const struct http_asset	http_assets[];
extern const size_t		http_nassets;

#endif
