package dev.grpckeepalive.test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import dev.grpckeepalive.logging.GrpcLogCondenser;

/**
 * Counts the WARNs grpc-netty-shaded's server handler logs for each unsolicited PING ACK that get past the
 * {@link GrpcLogCondenser} to the handlers: a flood of ACKs must not become a flood of log lines.
 */
public final class UnexpectedPingAckWarnings extends Handler implements AutoCloseable {

	private final Logger logger = Logger.getLogger(GrpcLogCondenser.LOGGERS.get(0));

	private final AtomicInteger published = new AtomicInteger();

	private UnexpectedPingAckWarnings() {
	}

	/** Starts counting; {@link #close()} stops. */
	public static UnexpectedPingAckWarnings count() {
		UnexpectedPingAckWarnings warnings = new UnexpectedPingAckWarnings();
		warnings.logger.addHandler(warnings);
		return warnings;
	}

	@Override
	public void publish(LogRecord record) {
		if (String.valueOf(record.getMessage()).startsWith("Received unexpected ping ack")) {
			this.published.incrementAndGet();
		}
	}

	/** How many of those WARNs reached the handlers since {@link #count()}. */
	public int published() {
		return this.published.get();
	}

	@Override
	public void flush() {
	}

	@Override
	public void close() {
		this.logger.removeHandler(this);
	}

}
