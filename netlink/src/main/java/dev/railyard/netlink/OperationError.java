package dev.railyard.netlink;

/**
 * The kernel's refusal of one operation of a batch: its index in the batch (-1 when the batch as a whole was
 * refused, e.g. at commit), the operation's description, the errno, and the kernel's extended-ack message and
 * the part of the request it pointed at, when it gave them.
 */
public record OperationError(int index, String operation, int errno, String kernelMessage, String location) {

    public String errnoName() {
        return Errno.name(errno);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(index < 0 ? "batch" : "operation #" + index).append(" (").append(operation).append("): ")
                .append(Errno.describe(errno));
        if (kernelMessage != null && !kernelMessage.isEmpty()) {
            sb.append(": ").append(kernelMessage);
        }
        if (location != null) {
            sb.append(" [at ").append(location).append(']');
        }
        return sb.toString();
    }
}
