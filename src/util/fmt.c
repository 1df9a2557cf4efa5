/*
 * The core's bounded formatter (include/moat/fmt.h): for explanations
 * only, never on the packet path of a packet nobody asked about.
 */
#include <stdint.h>

#include "moat/fmt.h"

struct out {
	char *buf;
	size_t len, pos;
};

static void put_c(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos++] = c;
}

static void put_s(struct out *o, const char *s)
{
	for (; *s; s++)
		put_c(o, *s);
}

static void put_u(struct out *o, unsigned long long v, unsigned base)
{
	char d[24];
	int n = 0;

	do {
		d[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n > 0)
		put_c(o, d[--n]);
}

static void put_d(struct out *o, long long v)
{
	if (v < 0) {
		put_c(o, '-');
		put_u(o, 0ull - (unsigned long long)v, 10);
	} else {
		put_u(o, (unsigned long long)v, 10);
	}
}

/* One conversion after '%' at *@pf; moves *@pf past it. */
static void convert(struct out *o, const char **pf, va_list *ap)
{
	const char *f = *pf;
	int size = 0; /* 0 int, 1 long, 2 long long, 3 size_t */

	if (*f == 'l') {
		size = 1;
		if (*++f == 'l') {
			size = 2;
			f++;
		}
	} else if (*f == 'z') {
		size = 3;
		f++;
	}
	switch (*f) {
	case 's': {
		const char *s = va_arg(*ap, const char *);
		put_s(o, s ? s : "(null)");
		break;
	}
	case 'c':
		put_c(o, (char)va_arg(*ap, int));
		break;
	case 'd':
	case 'i':
		put_d(o, size == 2 ? va_arg(*ap, long long) :
			 size == 1 ? va_arg(*ap, long) :
			 size == 3 ? (long long)va_arg(*ap, size_t) :
			 va_arg(*ap, int));
		break;
	case 'u':
	case 'x':
		put_u(o, size == 2 ? va_arg(*ap, unsigned long long) :
			 size == 1 ? va_arg(*ap, unsigned long) :
			 size == 3 ? va_arg(*ap, size_t) :
			 va_arg(*ap, unsigned),
		      *f == 'x' ? 16 : 10);
		break;
	case '%':
		put_c(o, '%');
		break;
	default:
		put_c(o, '?');
		if (!*f) {
			*pf = f;
			return;
		}
	}
	*pf = f + 1;
}

size_t moat_fmt_v(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };
	va_list cp;

	if (len == 0)
		return 0;
	va_copy(cp, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put_c(&o, *fmt++);
			continue;
		}
		fmt++;
		convert(&o, &fmt, &cp);
	}
	va_end(cp);
	buf[o.pos] = '\0';
	return o.pos;
}

size_t moat_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = moat_fmt_v(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
