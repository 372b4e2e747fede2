/* cr_test_xpath: XPath look-ups for the report tests that parse HTML or
 * XML with libxml2 (header-only; include after <libxml/xpath.h>, inside
 * the tests' CR_HAVE_LIBXML2 part). */
#ifndef CR_TEST_XPATH_H
#define CR_TEST_XPATH_H

#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

/* The number an expression evaluates to (-1 when it cannot be evaluated). */
static inline double xnum(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr c = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, c);
    double v = o ? xmlXPathCastToNumber(o) : -1;
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    return v;
}

/* The string an expression evaluates to, malloc'd ("" when none). */
static inline char *xstr(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr c = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, c);
    xmlChar *s = o ? xmlXPathCastToString(o) : NULL;
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    char *r = strdup(s ? (const char *)s : "");
    xmlFree(s);
    return r;
}

#endif
