package dev.railyard.netlink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageWriterTest {

    @Test
    void messageHeaderNfgenmsgAndAttributesArePaddedToFourBytes() {
        MessageWriter w = new MessageWriter(16);
        int m = w.beginMessage(0x0a06, 0x0c05, 42);
        w.nfgenmsg(2, 0, 10);
        w.attrString(1, "t");            // 4 + 2 bytes -> padded to 8
        w.attrU32BigEndian(2, 0x01020304);
        int nest = w.beginNested(4);
        w.attrU8(1, 7);                  // 5 bytes -> 8
        w.endNested(nest);
        w.endMessage(m);
        ByteBuffer b = w.written();

        assertThat(b.limit()).isEqualTo(16 + 4 + 8 + 8 + 12);
        assertThat(b.getInt(0)).isEqualTo(b.limit());
        assertThat(b.getShort(4)).isEqualTo((short) 0x0a06);
        assertThat(b.getShort(6)).isEqualTo((short) 0x0c05);
        assertThat(b.getInt(8)).isEqualTo(42);
        assertThat(bytes(b, 16, 4)).containsExactly(2, 0, 0, 10);       // res_id big-endian
        assertThat(b.getShort(20)).isEqualTo((short) 6);
        assertThat(bytes(b, 24, 2)).containsExactly('t', 0);
        assertThat(bytes(b, 32, 4)).containsExactly(1, 2, 3, 4);        // payload in network order
        assertThat(b.getShort(36)).isEqualTo((short) 12);               // nest length includes its header
        assertThat(b.getShort(38) & 0xffff).isEqualTo(4 | MessageWriter.NLA_F_NESTED);

        List<Attributes.Attr> attrs = Attributes.parse(b, 20, b.limit(), 0);
        assertThat(attrs).extracting(Attributes.Attr::type).containsExactly(1, 2, 4);
        assertThat(attrs.get(0).string()).isEqualTo("t");
        assertThat(attrs.get(1).u32BigEndian()).isEqualTo(0x01020304);
        assertThat(attrs.get(2).nested().get(0).u8()).isEqualTo(7);
    }

    @Test
    void growsWithoutLosingWhatWasWritten() {
        MessageWriter w = new MessageWriter(256);
        int m = w.beginMessage(1, 0, 1);
        for (int i = 0; i < 10_000; i++) {
            w.attrU32BigEndian(1, i);
        }
        w.endMessage(m);
        ByteBuffer b = w.written();
        assertThat(b.getInt(0)).isEqualTo(16 + 10_000 * 8);
        assertThat(Attributes.parse(b, 16, b.limit(), 0)).hasSize(10_000).last()
                .satisfies(a -> assertThat(a.u32BigEndian()).isEqualTo(9_999));
    }

    @Test
    void attributeLongerThanNetlinkAllowsIsRefused() {
        MessageWriter w = new MessageWriter(256);
        assertThatThrownBy(() -> w.attrBytes(1, new byte[70_000])).isInstanceOf(IllegalArgumentException.class);
    }

    private static int[] bytes(ByteBuffer b, int offset, int length) {
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = b.get(offset + i) & 0xff;
        }
        return out;
    }
}
