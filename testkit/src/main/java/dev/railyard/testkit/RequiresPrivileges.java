package dev.railyard.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class or method that needs root, working {@code ip netns} and the named commands.
 *
 * <p>When something is missing, the test is <em>skipped</em> with a reason naming it, unless the system
 * property (or JUnit configuration parameter) {@value PrivilegeDecision#REQUIRE_PROPERTY} is {@code true}, as
 * in CI, in which case it <em>fails</em>: a CI machine that silently skips every kernel test would report
 * green while testing nothing.
 *
 * <pre>{@code
 * @RequiresPrivileges(commands = {"iptables-restore", "conntrack"})
 * class ConntrackCleanupTest { ... }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@ExtendWith(PrivilegeCheckExtension.class)
public @interface RequiresPrivileges {

    /** Executables that must be found on PATH (or in the sbin directories), e.g. {@code "iptables-restore"}. */
    String[] commands() default {};

    /** Whether the test needs to create network namespaces; checked by actually creating and deleting one. */
    boolean netns() default true;

    /** Whether the test needs to run as root (effective uid 0). */
    boolean root() default true;
}
