package dev.railyard.netlink;

/** Numbers from the kernel uapi (linux/netlink.h, netfilter/nfnetlink.h, netfilter/nf_tables.h). */
final class NfConst {

    private NfConst() {
    }

    // netlink.h
    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_MULTI = 0x2;
    static final int NLM_F_ACK = 0x4;
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_CREATE = 0x400;
    static final int NLM_F_APPEND = 0x800;
    /** On NEW requests: fail with EEXIST when the object exists (nft's {@code create}). */
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_NONREC = 0x100;
    static final int NLM_F_CAPPED = 0x100;
    static final int NLM_F_ACK_TLVS = 0x200;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLMSGERR_ATTR_MSG = 1;
    static final int NLMSGERR_ATTR_OFFS = 2;

    // nfnetlink.h
    static final int NFNL_MSG_BATCH_BEGIN = 0x10;
    static final int NFNL_MSG_BATCH_END = 0x11;
    static final int NFNL_SUBSYS_NFTABLES = 10;
    static final int NFNETLINK_V0 = 0;

    // enum nf_tables_msg_types
    static final int NFT_MSG_NEWTABLE = 0;
    static final int NFT_MSG_GETTABLE = 1;
    static final int NFT_MSG_DELTABLE = 2;
    static final int NFT_MSG_NEWCHAIN = 3;
    static final int NFT_MSG_GETCHAIN = 4;
    static final int NFT_MSG_DELCHAIN = 5;
    static final int NFT_MSG_NEWRULE = 6;
    static final int NFT_MSG_GETRULE = 7;
    static final int NFT_MSG_DELRULE = 8;
    static final int NFT_MSG_NEWSET = 9;
    static final int NFT_MSG_GETSET = 10;
    static final int NFT_MSG_DELSET = 11;
    static final int NFT_MSG_NEWSETELEM = 12;
    static final int NFT_MSG_GETSETELEM = 13;
    static final int NFT_MSG_DELSETELEM = 14;
    static final int NFT_MSG_NEWGEN = 15;
    static final int NFT_MSG_GETGEN = 16;

    static int nftMessageType(int msg) {
        return (NFNL_SUBSYS_NFTABLES << 8) | msg;
    }

    // table
    static final int NFTA_TABLE_NAME = 1;
    static final int NFTA_TABLE_FLAGS = 2;
    static final int NFTA_TABLE_USERDATA = 6;
    // chain
    static final int NFTA_CHAIN_TABLE = 1;
    static final int NFTA_CHAIN_NAME = 3;
    static final int NFTA_CHAIN_HOOK = 4;
    static final int NFTA_CHAIN_TYPE = 7;
    static final int NFTA_CHAIN_USERDATA = 12;
    static final int NFTA_HOOK_HOOKNUM = 1;
    static final int NFTA_HOOK_PRIORITY = 2;
    // rule
    static final int NFTA_RULE_TABLE = 1;
    static final int NFTA_RULE_CHAIN = 2;
    static final int NFTA_RULE_HANDLE = 3;
    static final int NFTA_RULE_EXPRESSIONS = 4;
    static final int NFTA_RULE_USERDATA = 7;
    static final int NFTA_LIST_ELEM = 1;
    static final int NFTA_EXPR_NAME = 1;
    static final int NFTA_EXPR_DATA = 2;
    // set
    static final int NFTA_SET_TABLE = 1;
    static final int NFTA_SET_NAME = 2;
    static final int NFTA_SET_FLAGS = 3;
    static final int NFTA_SET_KEY_TYPE = 4;
    static final int NFTA_SET_KEY_LEN = 5;
    static final int NFTA_SET_DATA_TYPE = 6;
    static final int NFTA_SET_DATA_LEN = 7;
    static final int NFTA_SET_DESC = 9;
    static final int NFTA_SET_ID = 10;
    static final int NFTA_SET_TIMEOUT = 11;
    static final int NFTA_SET_USERDATA = 13;
    static final int NFTA_SET_DESC_SIZE = 1;
    static final int NFTA_SET_DESC_CONCAT = 2;
    static final int NFTA_SET_FIELD_LEN = 1;
    static final int NFT_SET_ANONYMOUS = 0x1;
    static final int NFT_SET_CONSTANT = 0x2;
    static final int NFT_SET_INTERVAL = 0x4;
    static final int NFT_SET_MAP = 0x8;
    static final int NFT_SET_TIMEOUT = 0x10;
    static final int NFT_SET_EVAL = 0x20;
    static final int NFT_SET_CONCAT = 0x80;
    static final int NFT_DATA_VERDICT = 0xffffff00;
    // set elements
    static final int NFTA_SET_ELEM_LIST_TABLE = 1;
    static final int NFTA_SET_ELEM_LIST_SET = 2;
    static final int NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    static final int NFTA_SET_ELEM_LIST_SET_ID = 4;
    static final int NFTA_SET_ELEM_KEY = 1;
    static final int NFTA_SET_ELEM_DATA = 2;
    static final int NFTA_SET_ELEM_FLAGS = 3;
    static final int NFTA_SET_ELEM_TIMEOUT = 4;
    static final int NFTA_SET_ELEM_USERDATA = 6;
    static final int NFT_SET_ELEM_INTERVAL_END = 0x1;
    // data
    static final int NFTA_DATA_VALUE = 1;
    static final int NFTA_DATA_VERDICT = 2;
    static final int NFTA_VERDICT_CODE = 1;
    static final int NFTA_VERDICT_CHAIN = 2;
    // gen
    static final int NFTA_GEN_ID = 1;

    // expressions
    static final int NFTA_PAYLOAD_DREG = 1;
    static final int NFTA_PAYLOAD_BASE = 2;
    static final int NFTA_PAYLOAD_OFFSET = 3;
    static final int NFTA_PAYLOAD_LEN = 4;
    static final int NFTA_META_DREG = 1;
    static final int NFTA_META_KEY = 2;
    static final int NFTA_META_SREG = 3;
    static final int NFTA_CMP_SREG = 1;
    static final int NFTA_CMP_OP = 2;
    static final int NFTA_CMP_DATA = 3;
    static final int NFTA_BITWISE_SREG = 1;
    static final int NFTA_BITWISE_DREG = 2;
    static final int NFTA_BITWISE_LEN = 3;
    static final int NFTA_BITWISE_MASK = 4;
    static final int NFTA_BITWISE_XOR = 5;
    static final int NFTA_LOOKUP_SET = 1;
    static final int NFTA_LOOKUP_SREG = 2;
    static final int NFTA_LOOKUP_DREG = 3;
    static final int NFTA_LOOKUP_SET_ID = 4;
    static final int NFTA_LOOKUP_FLAGS = 5;
    static final int NFT_LOOKUP_F_INV = 1;
    static final int NFTA_IMMEDIATE_DREG = 1;
    static final int NFTA_IMMEDIATE_DATA = 2;
    static final int NFTA_NG_DREG = 1;
    static final int NFTA_NG_MODULUS = 2;
    static final int NFTA_NG_TYPE = 3;
    static final int NFTA_NG_OFFSET = 4;
    static final int NFT_NG_RANDOM = 1;
    static final int NFTA_NAT_TYPE = 1;
    static final int NFTA_NAT_FAMILY = 2;
    static final int NFTA_NAT_REG_ADDR_MIN = 3;
    static final int NFTA_NAT_REG_PROTO_MIN = 5;
    static final int NFTA_NAT_FLAGS = 7;
    static final int NFT_NAT_SNAT = 0;
    static final int NFT_NAT_DNAT = 1;
    static final int NF_NAT_RANGE_PROTO_SPECIFIED = 0x2;
    static final int NF_NAT_RANGE_PROTO_RANDOM_FULLY = 0x10;
    static final int NFTA_MASQ_FLAGS = 1;
    static final int NFTA_REJECT_TYPE = 1;
    static final int NFTA_REJECT_ICMP_CODE = 2;
    static final int NFTA_CT_DREG = 1;
    static final int NFTA_CT_KEY = 2;
    static final int NFTA_FIB_DREG = 1;
    static final int NFTA_FIB_RESULT = 2;
    static final int NFTA_FIB_FLAGS = 3;
    static final int NFTA_DYNSET_SET_NAME = 1;
    static final int NFTA_DYNSET_SET_ID = 2;
    static final int NFTA_DYNSET_OP = 3;
    static final int NFTA_DYNSET_SREG_KEY = 4;
    static final int NFTA_DYNSET_SREG_DATA = 5;
    static final int NFTA_DYNSET_TIMEOUT = 6;

    // registers
    static final int NFT_REG_VERDICT = 0;
    static final int NFT_REG_1 = 1;
    static final int NFT_REG32_00 = 8;

    // verdict codes
    static final int NF_DROP = 0;
    static final int NF_ACCEPT = 1;
    static final int NFT_CONTINUE = -1;
    static final int NFT_JUMP = -3;
    static final int NFT_GOTO = -4;
    static final int NFT_RETURN = -5;

    // libnftnl udata (nftnl/udata.h and nft's include/rule.h)
    static final int UDATA_TABLE_COMMENT = 0;
    static final int UDATA_CHAIN_COMMENT = 0;
    static final int UDATA_RULE_COMMENT = 0;
    static final int UDATA_SET_KEYBYTEORDER = 0;
    static final int UDATA_SET_DATABYTEORDER = 1;
    static final int UDATA_SET_MERGE_ELEMENTS = 2;
    static final int UDATA_SET_KEY_TYPEOF = 3;
    static final int UDATA_SET_DATA_TYPEOF = 4;
    static final int UDATA_SET_DATA_INTERVAL = 6;
    static final int UDATA_SET_COMMENT = 7;
    static final int UDATA_SET_ELEM_COMMENT = 0;
    static final int UDATA_COMMENT_MAXLEN = 128;
    // nft's enum byteorder
    static final int BYTEORDER_INVALID = 0;
    static final int BYTEORDER_HOST = 1;
    static final int BYTEORDER_BIG = 2;
}
