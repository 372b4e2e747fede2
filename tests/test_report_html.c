/* Tests for cr_html / cr_svg: report.html of recorded runs parses with
 * libxml2's HTML parser, has one section per expectation with the
 * journal's verdict, a timeline with one shaded window per fault, the
 * charts, no external resource, and hostile text stays text. */
#include <jansson.h>

#include "reports/cr_report.h"
#include "cr_test_report.h"

#ifdef CR_HAVE_LIBXML2
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "cr_test_xpath.h"

static int parse_errors;
static char first_error[300];

/* libxml2 2.9's HTML parser knows HTML 4 only: inline <svg> and its
 * children are "unknown tags", which is expected.  Anything else (bad
 * nesting, stray end tags, broken entities, invalid bytes) counts. */
static void on_error(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    if (e->code == XML_HTML_UNKNOWN_TAG)
        return;
    if (parse_errors++ == 0)
        snprintf(first_error, sizeof first_error, "line %d: %s", e->line,
                 e->message ? e->message : "?");
}

static htmlDocPtr parse_html(const char *dir, const char *file)
{
    char *s = crt_read(dir, file);
    if (!s)
        return NULL;
    parse_errors = 0;
    first_error[0] = '\0';
    xmlSetStructuredErrorFunc(NULL, on_error);
    htmlDocPtr doc = htmlReadMemory(s, (int)strlen(s), "report.html", "UTF-8",
                                    HTML_PARSE_NONET);
    xmlSetStructuredErrorFunc(NULL, NULL);
    free(s);
    if (parse_errors)
        fprintf(stderr, "%d HTML parse errors, first: %s\n", parse_errors,
                first_error);
    return doc;
}

#define EXPECT_SECTIONS                                                        \
    "//section[contains(concat(' ', @class, ' '), ' expect ')]"

/* The checks every report must pass, against its own journal. */
static void check_against_journal(const char *dir, htmlDocPtr doc)
{
    char path[4300], q[512];
    snprintf(path, sizeof path, "%s/journal.json", dir);
    json_t *j = json_load_file(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(parse_errors, 0);
    /* One section per expectation, same order, same verdict. */
    const json_t *ex = json_object_get(j, "expectations");
    CU_ASSERT_EQUAL(xnum(doc, "count(" EXPECT_SECTIONS ")"),
                    json_array_size(ex));
    for (size_t i = 0; i < json_array_size(ex); i++) {
        const json_t *x = json_array_get(ex, i);
        snprintf(q, sizeof q,
                 "string((" EXPECT_SECTIONS ")[%zu]/@data-verdict)", i + 1);
        char *v = xstr(doc, q);
        CU_ASSERT_STRING_EQUAL(
            v, json_string_value(json_object_get(x, "verdict")));
        free(v);
        snprintf(q, sizeof q, "string((" EXPECT_SECTIONS ")[%zu]//h3)", i + 1);
        v = xstr(doc, q);
        CU_ASSERT_STRING_EQUAL(v,
                               json_string_value(json_object_get(x, "name")));
        free(v);
        /* The verdict is also a visible word, not only a colour. */
        snprintf(q, sizeof q,
                 "string((" EXPECT_SECTIONS
                 ")[%zu]//span[contains(@class,'badge')])",
                 i + 1);
        v = xstr(doc, q);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(v, json_string_value(json_object_get(x, "verdict"))));
        free(v);
    }
    /* One shaded window per fault occurrence, named after its fault. */
    const json_t *fa = json_object_get(j, "faults");
    CU_ASSERT_EQUAL(xnum(doc, "count(//svg[@class='timeline'])"),
                    json_array_size(fa) ||
                            json_array_size(json_object_get(j, "services"))
                        ? 1
                        : 0);
    CU_ASSERT_EQUAL(xnum(doc, "count(//svg[@class='timeline']//"
                              "rect[contains(@class,'fault-window')])"),
                    json_array_size(fa));
    for (size_t i = 0; i < json_array_size(fa); i++) {
        const char *name =
            json_string_value(json_object_get(json_array_get(fa, i), "name"));
        snprintf(
            q, sizeof q,
            "count(//rect[contains(@class,'fault-window')][@data-fault='%s'])",
            name);
        CU_ASSERT(xnum(doc, q) >= 1);
    }
    /* Self-contained: no external script, style, font, image or frame. */
    CU_ASSERT_EQUAL(
        xnum(doc, "count(//script[@src]) + count(//link) + count(//img) + "
                  "count(//iframe) + count(//object) + count(//embed)"),
        0);
    CU_ASSERT_EQUAL(
        xnum(doc, "count(//@href[starts-with(., 'http')]) + count(//@src)"), 0);
    /* Header: scenario, verdict, seed, reproduce command. */
    char *h1 = xstr(doc, "string(//header//h1)");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(h1, json_string_value(json_object_get(j, "name"))));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(h1, json_string_value(json_object_get(j, "status"))));
    free(h1);
    char *code = xstr(doc, "string(//header//div[@class='repro']/code)");
    CU_ASSERT_STRING_EQUAL(code,
                           json_string_value(json_object_get(j, "reproduce")));
    free(code);
    json_decref(j);
}

static htmlDocPtr render(const char *fixture, char **dir)
{
    cr_err e;
    cr_err_clear(&e);
    *dir = crt_fixture(fixture);
    if (!*dir || cr_report_write_all(*dir, &e) != 0) {
        fprintf(stderr, "%s: %s\n", fixture, e.msg);
        return NULL;
    }
    return parse_html(*dir, "report.html");
}

static void test_report_html_passing_run(void)
{
    char *dir;
    htmlDocPtr doc = render("pass3", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    check_against_journal(dir, doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(//rect[contains(@class,'fault-window')])"),
                    3);
    /* Charts on the same axis. */
    CU_ASSERT_EQUAL(xnum(doc, "count(//svg[@data-chart='throughput'])"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//svg[@data-chart='retries'])"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//svg[@data-chart='latency'])"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//svg[@data-chart='errors'])"), 1);
    /* Lanes: a lane per instance; worker.1's death and restart drawn;
     * store.0 paused by the pause fault; the breaker opening. */
    CU_ASSERT_EQUAL(xnum(doc, "count(//g[@class='svc-lane'])"), 4);
    CU_ASSERT_EQUAL(
        xnum(doc,
             "count(//g[@data-instance='worker.1']/rect[@class='st-dead'])"),
        1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//g[@data-instance='worker.1']/"
                              "rect[@class='st-restarting'])"),
                    1);
    CU_ASSERT_EQUAL(
        xnum(doc,
             "count(//g[@data-instance='store.0']/rect[@class='st-paused'])"),
        1);
    CU_ASSERT_EQUAL(
        xnum(doc,
             "count(//g[@data-instance='worker.0']/rect[@class='st-paused'])"),
        0);
    CU_ASSERT_EQUAL(xnum(doc, "count(//rect[@class='br-open'])"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//rect[@class='br-half'])"), 1);
    CU_ASSERT(xnum(doc, "count(//*[@class='mk-ckpt'])") >= 5);
    CU_ASSERT_EQUAL(xnum(doc, "count(//*[@class='mk-restored'])"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//*[@class='mk-failover'])"), 2);
    CU_ASSERT_EQUAL(xnum(doc, "count(//*[@class='mk-alert'])"), 1);
    /* The measured figure against its bound. */
    char *fig =
        xstr(doc, "string((" EXPECT_SECTIONS ")[1]//div[@class='fig'])");
    CU_ASSERT_PTR_NOT_NULL(strstr(fig, "measured 1.84 s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fig, "bound \xE2\x89\xA4 5 s"));
    free(fig);
    /* Log excerpts around each fault, with lines inside the window marked. */
    char *logs = xstr(doc, "string(//section[@id='logs'])");
    CU_ASSERT_PTR_NOT_NULL(strstr(logs, "fsync failed (EIO)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(logs, "worker.1 starting (pid 4301)"));
    free(logs);
    CU_ASSERT(xnum(doc, "count(//section[@id='logs']//pre[@class='log']//"
                        "span[@class='in'])") > 0);
    /* The scenario as run. */
    char *sc = xstr(doc, "string(//section[@id='scenario']//pre)");
    CU_ASSERT_PTR_NOT_NULL(strstr(sc, "\"posix/io/sync/fsync\""));
    free(sc);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

static void test_report_html_failing_run_shows_evidence(void)
{
    char *dir;
    htmlDocPtr doc = render("fail", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    check_against_journal(dir, doc);
    /* Evidence tables open for failures, with the offending events. */
    CU_ASSERT_EQUAL(xnum(doc, "count(//section[@data-verdict='failed']//"
                              "details[@open]//table[@class='ev'])"),
                    2);
    CU_ASSERT_EQUAL(xnum(doc, "count(//section[@data-name='no-data-loss']//"
                              "table[@class='ev']/tbody/tr)"),
                    3);
    char *ev = xstr(
        doc, "string(//section[@data-name='recovers']//table[@class='ev'])");
    /* Markup in event text is text, not elements. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(ev, "HTTP 503 <html>Service Unavailable</html>"));
    free(ev);
    /* Evidence markers on the timeline, linked to their section: the
     * three lost ids (accepted within 0.2 s) are one marker saying so. */
    CU_ASSERT_EQUAL(
        xnum(doc,
             "count(//a[@href='#exp-1']//g[contains(@class,'mk-evidence')])"),
        1);
    char *mk = xstr(doc, "string(//a[@href='#exp-1']//g[contains(@class,"
                         "'mk-evidence')]/title)");
    CU_ASSERT_PTR_NOT_NULL(strstr(mk, "3 lost ids from 9."));
    free(mk);
    CU_ASSERT_EQUAL(
        xnum(doc,
             "count(//a[@href='#exp-0']//g[contains(@class,'mk-evidence')])"),
        4);
    /* This run's logs carry the services' own Unix-time stamps: excerpts
     * are cut by time and shown with times after t0. */
    char *lg = xstr(doc, "string(//section[@id='logs'])");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(lg, "[  20.472] worker.0: WARN fsync failed (EIO)"));
    CU_ASSERT_PTR_NULL(strstr(lg, "has no time stamps"));
    free(lg);
    /* Malformed event lines are reported, not fatal. */
    char *sum = xstr(doc, "string(//section[@id='summary'])");
    CU_ASSERT_PTR_NOT_NULL(strstr(sum, "2 malformed lines ignored"));
    free(sum);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

/* The failure first: right under the title, each failed or unknown
 * expectation with its kind and one-line reason, linked to its card,
 * before the timeline and its charts; nothing there when all held. */
static void test_report_html_failures_first(void)
{
    char *dir;
    htmlDocPtr doc = render("fail", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(parse_errors, 0);
    CU_ASSERT_EQUAL(xnum(doc, "count(//header//h1/following-sibling::div["
                              "@id='failures'][1])"),
                    1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//div[@id='failures']//li)"), 3);
    static const struct {
        const char *name, *verdict, *href, *why;
    } want[] = {
        {"recovers", "failed", "#exp-0", "only 7.40 s after"},
        {"no-data-loss", "failed", "#exp-1", "were never delivered"},
        {"checkpoint-resume", "unknown", "#exp-5", "cannot judge"},
    };
    for (size_t i = 0; i < 3; i++) {
        char q[300];
        snprintf(q, sizeof q, "(//div[@id='failures']//li)[%zu]", i + 1);
        char *li = xstr(doc, q);
        CU_ASSERT_PTR_NOT_NULL(strstr(li, want[i].name));
        CU_ASSERT_PTR_NOT_NULL(strstr(li, want[i].verdict));
        CU_ASSERT_PTR_NOT_NULL(strstr(li, want[i].why));
        free(li);
        snprintf(q, sizeof q,
                 "string((//div[@id='failures']//li)[%zu]/a/@href)", i + 1);
        char *href = xstr(doc, q);
        CU_ASSERT_STRING_EQUAL(href, want[i].href);
        free(href);
    }
    /* Before the timeline and every chart. */
    CU_ASSERT_EQUAL(xnum(doc, "count(//div[@id='failures']/preceding::svg["
                              "@class='timeline' or @class='chart'])"),
                    0);
    CU_ASSERT(xnum(doc, "count(//div[@id='failures']/following::svg["
                        "@class='chart'])") >= 3);
    xmlFreeDoc(doc);
    crt_cleanup(dir);

    doc = render("pass3", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(//div[@id='failures'])"), 0);
    xmlFreeDoc(doc);
    crt_cleanup(dir);

    /* An unrunnable run says why in the same place. */
    doc = render("unrunnable", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    char *li = xstr(doc, "string(//div[@id='failures']//li)");
    CU_ASSERT_PTR_NOT_NULL(strstr(li, "kernel lacks sch_netem"));
    free(li);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

/* Lost records where the faults hit, with no checkpoint, failover or
 * alert event in the run: the evidence is still marked on the timeline
 * (it was not, before), the hint names the fault, the evidence is in time
 * order with informational rows apart and long lists cut. */
static void test_report_html_lost_story(void)
{
    char *dir;
    htmlDocPtr doc = render("lost", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    check_against_journal(dir, doc);
    /* Timeline: a lane per failed/unknown expectation with evidence. */
    CU_ASSERT(xnum(doc, "count(//svg[@class='timeline']//g[contains(@class,"
                        "'mk-evidence')])") > 0);
    CU_ASSERT_EQUAL(xnum(doc, "count(//g[@class='ev-lane'])"), 2);
    CU_ASSERT(xnum(doc, "count(//g[@class='ev-lane'][@data-name='no-loss']//"
                        "g[contains(@class,'mk-evidence')][not(contains(@"
                        "class,'info'))])") >= 3);
    CU_ASSERT_EQUAL(xnum(doc, "count(//g[@class='ev-lane'][@data-name='no-"
                              "loss']//g[contains(@class,'mk-evidence')]["
                              "contains(@class,'info')])"),
                    2);
    /* The hint, under the title and in the card. */
    char *hint = xstr(doc, "string(//div[@id='failures']//div[@class='hint'])");
    CU_ASSERT_STRING_EQUAL(hint,
                           "Hint: 3 of 7 lost ids were in flight at worker.1 "
                           "(last record: leased) when kill-worker killed it "
                           "at 4.000 s");
    free(hint);
    CU_ASSERT_EQUAL(
        xnum(doc, "count(//section[@data-name='no-loss']//ul[@class='hints']/"
                  "li)"),
        2);
    char *h2 = xstr(doc, "string((//section[@data-name='no-loss']//ul[@class="
                         "'hints']/li)[2])");
    CU_ASSERT_PTR_NOT_NULL(strstr(h2, "2 of 7 lost ids were in flight at "
                                      "worker.0 (last record: worker.score) "
                                      "when stall-worker0 paused it at "
                                      "6.000 s"));
    free(h2);
    CU_ASSERT_EQUAL(xnum(doc, "count(//section[@data-name='no-loss']//table["
                              "@class='lost']/tbody/tr)"),
                    7);
    /* Evidence rows: failures in time order, informational apart. */
    char *first = xstr(doc, "string(//section[@data-name='no-loss']//details["
                            "@class='evidence']/div//table[@class='ev']/"
                            "tbody/tr[1])");
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "3.900"));
    free(first);
    CU_ASSERT_EQUAL(xnum(doc, "count(//section[@data-name='no-loss']//details["
                              "@class='info']//tbody/tr)"),
                    2);
    /* 14 failure rows: 10 shown, 4 behind "show all", the omitted ones
     * counted. */
    CU_ASSERT_EQUAL(xnum(doc, "count(//section[@data-name='api-steady']//"
                              "details[@class='evidence']/div//tbody/tr)"),
                    10);
    CU_ASSERT_EQUAL(xnum(doc, "count(//section[@data-name='api-steady']//"
                              "details[@class='more']//tbody/tr)"),
                    4);
    char *more = xstr(doc, "string(//section[@data-name='api-steady']//"
                           "details[@class='more']/summary)");
    CU_ASSERT_STRING_EQUAL(more, "show all 14 failure rows (4 more)");
    free(more);
    char *info = xstr(doc, "string(//section[@data-name='api-steady']//"
                           "details[@class='info']//tbody)");
    CU_ASSERT_PTR_NOT_NULL(strstr(info, "probe api passed before the faults"));
    free(info);
    char *ev = xstr(doc, "string(//section[@data-name='api-steady'])");
    CU_ASSERT_PTR_NOT_NULL(strstr(ev, "recorded 7 more rows than it kept"));
    free(ev);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

/* Thousands of lost ids: the page lists 500 and says where the rest are. */
static void test_report_html_lost_list_capped(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(
        crt_write(dir, "journal.json",
                  "{\"name\":\"many\",\"status\":\"failed\",\"t0_unix\":100,"
                  "\"expectations\":[{\"name\":\"nl\",\"kind\":\"no_loss\","
                  "\"verdict\":\"failed\",\"summary\":\"lost 2000\","
                  "\"details\":{\"lost\":2000}}]}\n"),
        0);
    char path[4300];
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    FILE *fp = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    for (int i = 0; i < 2000; i++)
        fprintf(fp,
                "{\"ts\":%.3f,\"svc\":\"a\",\"ev\":\"accepted\",\"id\":%d}\n",
                100 + i * 0.001, i);
    fclose(fp);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_write_all(dir, &e), 0);
    htmlDocPtr doc = parse_html(dir, "report.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(//table[@class='lost']/tbody/tr)"), 500);
    char *note = xstr(doc, "string(//div[@class='story']//details/p)");
    CU_ASSERT_PTR_NOT_NULL(strstr(note, "stops at 500 ids; the other 1500"));
    free(note);
    xmlFreeDoc(doc);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_report_html_interrupted_and_unrunnable(void)
{
    char *dir;
    htmlDocPtr doc = render("interrupted", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    check_against_journal(dir, doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(//rect[contains(@class,'not-applied')])"),
                    1);
    char *tl = xstr(doc, "string(//svg[@class='timeline'])");
    CU_ASSERT_PTR_NOT_NULL(strstr(tl, "(never reverted)"));
    free(tl);
    char *al = xstr(doc, "string(//div[contains(@class,'alert')])");
    CU_ASSERT_PTR_NOT_NULL(strstr(al, "interrupted by SIGINT"));
    free(al);
    /* Logs without time stamps: excerpts cut at the byte offsets the
     * journal recorded when each fault was applied. */
    char *lg = xstr(doc, "string(//section[@id='logs'])");
    CU_ASSERT_EQUAL(crt_count(lg, "has no time stamps"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(lg, "INFO compaction finished: 3 segments"));
    free(lg);
    xmlFreeDoc(doc);
    crt_cleanup(dir);

    doc = render("unrunnable", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    check_against_journal(dir, doc);
    al = xstr(doc, "string(//div[contains(@class,'alert')])");
    CU_ASSERT_PTR_NOT_NULL(strstr(al, "kernel lacks sch_netem"));
    free(al);
    CU_ASSERT_EQUAL(xnum(doc, "count(//svg[@class='timeline'])"), 0);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

static void test_report_html_hostile_text_stays_text(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(
        crt_write(
            dir, "journal.json",
            "{\"name\":\"<img src=x onerror=alert(1)>\",\"status\":\"failed\","
            "\"t0_unix\":100,\"started_at\":99,\"ended_at\":110,\"duration_s\":"
            "5,"
            "\"reproduce\":\"chaosrun '\\\"><script>x</script>'\","
            "\"services\":[{\"instance\":\"a\\\"b.0\",\"service\":\"a\\\"b\","
            "\"log\":\"logs/"
            "a.0.log\",\"history\":[{\"t\":-1,\"what\":\"start\"},{\"t\":0,"
            "\"what\":\"ready\"}]}],"
            "\"faults\":[{\"name\":\"x' "
            "data-x='1\",\"kind\":\"kill\",\"target\":\"a\\\"b.0\",\"applied_"
            "t\":1}],"
            "\"expectations\":[{\"name\":\"</section><script>alert(2)</"
            "script>\",\"kind\":\"k\","
            "\"verdict\":\"failed\",\"summary\":\"<b>bold</b> & \\u0001\","
            "\"evidence\":[{\"t\":1,\"text\":\"<!-- comment --> "
            "<style>x</style>\"}]}]}\n"),
        0);
    CU_ASSERT_EQUAL(crt_write(dir, "events.jsonl",
                              "{\"ts\":101,\"svc\":\"<svg "
                              "onload=alert(3)>\",\"ev\":\"breaker\",\"name\":"
                              "\"<x>\",\"state\":\"open\"}\n"),
                    0);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_write_all(dir, &e), 0);
    htmlDocPtr doc = parse_html(dir, "report.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(parse_errors, 0);
    CU_ASSERT_EQUAL(
        xnum(doc,
             "count(//script) + count(//img) + "
             "count(//section[@id='exp-0']/p/b) + "
             "count(//body//style) + count(//@onerror) + count(//@onload) + "
             "count(//@data-x) + count(//comment())"),
        0);
    CU_ASSERT_EQUAL(xnum(doc, "count(" EXPECT_SECTIONS ")"), 1);
    char *p = xstr(doc, "string(//section[@id='exp-0']/p)");
    CU_ASSERT_STRING_EQUAL(p, "<b>bold</b> & \xEF\xBF\xBD");
    free(p);
    char *h3 = xstr(doc, "string(//h3)");
    CU_ASSERT_STRING_EQUAL(h3, "</section><script>alert(2)</script>");
    free(h3);
    char *df = xstr(
        doc, "string(//rect[contains(@class,'fault-window')]/@data-fault)");
    CU_ASSERT_STRING_EQUAL(df, "x' data-x='1");
    free(df);
    xmlFreeDoc(doc);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_report_html_load_errors(void)
{
    cr_err e;
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_write_all(dir, &e), CR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "journal.json"));
    CU_ASSERT_EQUAL(
        crt_write(dir, "journal.json", "{\"name\": \"x\",\n  \"status\": }\n"),
        0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_write_all(dir, &e), CR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "journal.json:2:"));
    CU_ASSERT_EQUAL(crt_write(dir, "journal.json", "[1, 2]\n"), 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_write_all(dir, &e), CR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a JSON object"));
    /* A journal alone (no events, no logs) still gives three reports. */
    CU_ASSERT_EQUAL(crt_write(dir, "journal.json",
                              "{\"name\":\"bare\",\"status\":\"passed\"}\n"),
                    0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_write_all(dir, &e), 0);
    htmlDocPtr doc = parse_html(dir, "report.html");
    CU_ASSERT_PTR_NOT_NULL(doc);
    CU_ASSERT_EQUAL(parse_errors, 0);
    xmlFreeDoc(doc);
    char *md = crt_read(dir, "report.md");
    CU_ASSERT_PTR_NOT_NULL(md);
    free(md);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static int suite_clean(void)
{
    xmlCleanupParser();
    return 0;
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_html", NULL, suite_clean);
    CR_ADD_TEST(s, test_report_html_passing_run);
    CR_ADD_TEST(s, test_report_html_failing_run_shows_evidence);
    CR_ADD_TEST(s, test_report_html_failures_first);
    CR_ADD_TEST(s, test_report_html_lost_story);
    CR_ADD_TEST(s, test_report_html_lost_list_capped);
    CR_ADD_TEST(s, test_report_html_interrupted_and_unrunnable);
    CR_ADD_TEST(s, test_report_html_hostile_text_stays_text);
    CR_ADD_TEST(s, test_report_html_load_errors);
}

#else

void cr_test_register(void)
{
    cr_test_skip("libxml2 (libxml2-dev) was not found at build time: "
                 "cannot parse report.html");
}

#endif
