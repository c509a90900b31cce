package dev.grpckeepalive.actuate;

import java.util.Locale;

import io.micrometer.common.docs.KeyName;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.docs.MeterDocumentation;
import org.jspecify.annotations.Nullable;

/**
 * Every meter the starter registers, declared once: name, type, base unit, description and
 * tags. {@link GrpcKeepAliveMeterBinder} registers them from here, and docs/metrics.md is
 * checked against this list by a test. Every meter has the tags {@code side} and
 * {@code channel}; {@link #getAdditionalKeyNames()} lists the others.
 */
public enum KeepAliveMeter implements MeterDocumentation {

	/** HTTP/2 PING frames this side originated, by the kind its payload tells. */
	PINGS_SENT("grpc.keepalive.pings.sent", Meter.Type.COUNTER, null, "HTTP/2 PING frames this side originated",
			Tag.KIND),

	/** HTTP/2 PING frames the peer originated. */
	PINGS_RECEIVED("grpc.keepalive.pings.received", Meter.Type.COUNTER, null,
			"HTTP/2 PING frames the peer originated"),

	/** Keepalive PINGs this side sent that were not acknowledged within the keepalive timeout. */
	PING_TIMEOUTS("grpc.keepalive.ping.timeouts", Meter.Type.COUNTER, null,
			"Keepalive PINGs not acknowledged within the keepalive timeout"),

	/** Round trip from a PING this side sent to its ACK. */
	PING_RTT("grpc.keepalive.ping.rtt", Meter.Type.TIMER, "seconds",
			"Round-trip time from a PING this side sent to its ACK"),

	/** GOAWAY frames by direction and by what they meant. */
	GOAWAYS("grpc.keepalive.goaways", Meter.Type.COUNTER, null, "GOAWAY frames, by direction and what they meant",
			Tag.DIRECTION, Tag.REASON),

	/** Connections open now, draining ones included. */
	CONNECTIONS_ACTIVE("grpc.keepalive.connections.active", Meter.Type.GAUGE, null, "Open connections"),

	/** Closed connections by close reason. */
	CONNECTIONS_CLOSED("grpc.keepalive.connections.closed", Meter.Type.COUNTER, null,
			"Closed connections, by why they closed", Tag.REASON),

	/** How long connections lived, by close reason. */
	CONNECTION_LIFETIME("grpc.keepalive.connection.lifetime", Meter.Type.TIMER, "seconds",
			"How long connections lived, by why they closed", Tag.REASON),

	/** The keepalive advisor's current findings, by type and severity. */
	ADVICE_FINDINGS("grpc.keepalive.advice.findings", Meter.Type.GAUGE, null,
			"Current keepalive advisor findings, by type and severity", Tag.TYPE, Tag.SEVERITY);

	private final String name;

	private final Meter.Type type;

	private final @Nullable String baseUnit;

	private final String description;

	private final KeyName[] additionalTags;

	KeepAliveMeter(String name, Meter.Type type, @Nullable String baseUnit, String description,
			KeyName... additionalTags) {
		this.name = name;
		this.type = type;
		this.baseUnit = baseUnit;
		this.description = description;
		this.additionalTags = additionalTags;
	}

	@Override
	public String getName() {
		return this.name;
	}

	@Override
	public Meter.Type getType() {
		return this.type;
	}

	/**
	 * The base unit, or {@code null} for counts. Timers are recorded in the registry's base
	 * time unit (seconds for Prometheus); counts have none, so that no registry appends one to
	 * their names.
	 */
	@Override
	public @Nullable String getBaseUnit() {
		return this.baseUnit;
	}

	/** The description the meter is registered with. */
	public String getDescription() {
		return this.description;
	}

	/** {@code side} and {@code channel}, on every meter. */
	@Override
	public KeyName[] getKeyNames() {
		return new KeyName[] { Tag.SIDE, Tag.CHANNEL };
	}

	/** The tags this meter has besides {@code side} and {@code channel}. */
	@Override
	public KeyName[] getAdditionalKeyNames() {
		return this.additionalTags.clone();
	}

	/**
	 * The tags of the starter's meters. Their values come from fixed sets, so that the number
	 * of series stays bounded: no peer address, connection id or user agent is a tag.
	 */
	public enum Tag implements KeyName {

		/** {@code server} or {@code client}. */
		SIDE,

		/** The channel name, {@code server} for the server. */
		CHANNEL,

		/** The PING kind: {@code keepalive}, {@code bdp}, {@code shutdown}, {@code other}. */
		KIND,

		/** The GOAWAY direction: {@code sent} or {@code received}. */
		DIRECTION,

		/** A close reason, and for GOAWAYs also {@code other}. */
		REASON,

		/** An advisor finding type, such as {@code clients_ping_too_often}. */
		TYPE,

		/** A finding's severity: {@code info}, {@code warning}, {@code critical}. */
		SEVERITY;

		@Override
		public String asString() {
			return name().toLowerCase(Locale.ROOT);
		}

	}

}
