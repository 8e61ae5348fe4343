/* Refcounted, shareable Engine.IO packets: one encoding, many sessions. */
#include "eio/ym_eio_internal.h"
#include "test.h"

TEST(text_packet_forms)
{
    ym_eio_packet_t *p = ym_eio_packet_new("hello", 5, false);
    ASSERT_EQ(p->refs, 1);
    ASSERT_MEM_EQ(p->bytes->data, p->bytes->len, "4hello", 6);
    ASSERT_EQ(ym_eio__packet_size(p), 6);
    ym_buf_t out = YM_BUF_INIT;
    ym_eio__packet_append_payload(&out, p);
    ym_eio__packet_append_payload(&out, p);
    ASSERT_MEM_EQ(out.data, out.len, "4hello\x1e" "4hello", 13);
    ym_rbuf_t *f1 = ym_eio__packet_ws_frame(p);
    ym_rbuf_t *f2 = ym_eio__packet_ws_frame(p);
    ASSERT(f1 == f2); /* built once, shared */
    ASSERT_EQ(f1->len, 8);
    ASSERT_EQ((unsigned char)f1->data[0], 0x81); /* FIN + text */
    ASSERT_EQ((unsigned char)f1->data[1], 6);
    ASSERT_MEM_EQ(f1->data + 2, 6, "4hello", 6);
    ym_buf_free(&out);
    ym_eio_packet_unref(p);
}

TEST(binary_packet_forms)
{
    ym_eio_packet_t *p = ym_eio_packet_new("\x01\x02\x03\x04", 4, true);
    ASSERT_EQ(ym_eio__packet_size(p), 9);
    ym_buf_t out = YM_BUF_INIT;
    ym_eio__packet_append_payload(&out, p);
    ASSERT_MEM_EQ(out.data, out.len, "bAQIDBA==", 9);
    ym_rbuf_t *f = ym_eio__packet_ws_frame(p);
    ASSERT_EQ((unsigned char)f->data[0], 0x82); /* FIN + binary, no type byte */
    ASSERT_EQ((unsigned char)f->data[1], 4);
    ASSERT_MEM_EQ(f->data + 2, 4, "\x01\x02\x03\x04", 4);
    ym_buf_free(&out);
    ym_eio_packet_unref(p);
}

TEST(refcount_and_control)
{
    ym_eio_packet_t *p = ym_eio__packet_new_type(YM_EIO_PING, NULL, 0, false);
    ASSERT_EQ(ym_eio_packet_ref(p), p);
    ASSERT_EQ(p->refs, 2);
    ym_eio_packet_unref(p);
    ASSERT_EQ(p->refs, 1);
    ASSERT_MEM_EQ(p->bytes->data, p->bytes->len, "2", 1);
    ym_eio_packet_unref(p); /* freed: ASan reports a leak otherwise */
    ym_eio_packet_unref(NULL);
    ym_eio_packet_t *e = ym_eio_packet_new("", 0, false);
    ASSERT_MEM_EQ(e->bytes->data, e->bytes->len, "4", 1);
    ym_eio_packet_unref(e);
}

int main(void)
{
    RUN(text_packet_forms);
    RUN(binary_packet_forms);
    RUN(refcount_and_control);
    return test_report();
}
