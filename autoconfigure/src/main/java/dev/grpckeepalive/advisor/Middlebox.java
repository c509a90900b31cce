package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Common elements on a network path that drop idle TCP connections, with the idle timeout
 * their providers commonly document as the default: the table of docs/tuning.md ("Idle
 * timeouts commonly documented"), in one place, which {@code MiddleboxTableTests} keeps
 * consistent with the document. Providers change defaults and let them be configured: a
 * match says what fits the evidence, not what is on the path.
 */
enum Middlebox {

	AWS_ALB("AWS Application Load Balancer", Duration.ofSeconds(60), "AWS Application Load Balancer", "60 s"),

	AZURE_LOAD_BALANCER("Azure Load Balancer", Duration.ofMinutes(4), "Azure Load Balancer", "4 min"),

	AZURE_NAT_GATEWAY("Azure NAT Gateway", Duration.ofMinutes(4), "Azure NAT Gateway", "4 min"),

	AWS_NLB("AWS Network Load Balancer (TCP listener)", Duration.ofSeconds(350),
			"AWS Network Load Balancer, TCP listener", "350 s"),

	AWS_NAT_GATEWAY("AWS NAT Gateway", Duration.ofSeconds(350), "AWS NAT Gateway", "350 s"),

	GCP_CONNECTION_TRACKING("GCP firewall connection tracking / passthrough Network Load Balancer",
			Duration.ofSeconds(600), "GCP VPC firewall connection tracking; internal and external passthrough "
					+ "Network Load Balancers", "600 s (10 min)"),

	GCP_CLOUD_NAT("GCP Cloud NAT (established TCP)", Duration.ofSeconds(1200), "GCP Cloud NAT", "1200 s (20 min)"),

	KUBE_PROXY_CONNTRACK("Linux conntrack as kube-proxy commonly sets it", Duration.ofSeconds(86400),
			"Linux conntrack, `nf_conntrack_tcp_timeout_established`", "86400 s (24 h)"),

	LINUX_CONNTRACK("Linux conntrack, kernel default", Duration.ofSeconds(432000),
			"Linux conntrack, `nf_conntrack_tcp_timeout_established`", "432000 s (5 days)");


	private final String label;

	private final Duration idleTimeout;

	private final String tuningRow;

	private final String tuningFigure;

	Middlebox(String label, Duration idleTimeout, String tuningRow, String tuningFigure) {
		this.label = label;
		this.idleTimeout = idleTimeout;
		this.tuningRow = tuningRow;
		this.tuningFigure = tuningFigure;
	}

	/** The name and its documented idle timeout, such as {@code AWS NAT Gateway (350s)}. */
	String describe() {
		return this.label + " (" + Durations.text(this.idleTimeout) + ")";
	}

	Duration idleTimeout() {
		return this.idleTimeout;
	}

	/** The first column of its row in docs/tuning.md. */
	String tuningRow() {
		return this.tuningRow;
	}

	/** The figure its row in docs/tuning.md gives. */
	String tuningFigure() {
		return this.tuningFigure;
	}

	/**
	 * The middleboxes whose documented idle timeout is longer than {@code aboveMillis} and at
	 * most {@code atMostMillis}.
	 * @param aboveMillis the longest silence that survived, or 0 when none is known
	 * @param atMostMillis the upper bound of the idle timeout
	 */
	static List<Middlebox> within(long aboveMillis, long atMostMillis) {
		List<Middlebox> matches = new ArrayList<>();
		for (Middlebox middlebox : values()) {
			long timeout = middlebox.idleTimeout.toMillis();
			if (timeout > aboveMillis && timeout <= atMostMillis) {
				matches.add(middlebox);
			}
		}
		return matches;
	}

}
