package dev.grpckeepalive.connection;

import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.shutdown.ServerCalls;

/**
 * The connections of one server or channel: the open ones by address pair, and a bounded
 * history of recently closed ones, kept as their final snapshot. A record is opened by
 * whichever sees the connection first, the frame observer (socket active) or grpc-java's
 * transport filter (transport ready), and found by its address pair by the other.
 */
final class ConnectionRegistry {

	private final String idPrefix;

	private final int historySize;

	private final AtomicLong ids = new AtomicLong();

	private final LongAdder opened = new LongAdder();

	/** Open connections by address pair; by the record itself where the addresses are unknown. */
	private final Map<Object, ConnectionRecord> open = new ConcurrentHashMap<>();

	private final ArrayDeque<ConnectionSnapshot> history = new ArrayDeque<>();

	ConnectionRegistry(String idPrefix, int historySize) {
		this.idPrefix = idPrefix;
		this.historySize = historySize;
	}

	/**
	 * The record of the connection between these addresses, made by {@code newRecord} (given
	 * its number) if nobody has opened it yet.
	 */
	ConnectionRecord opened(@Nullable SocketAddress remote, @Nullable SocketAddress local,
			Function<Long, ConnectionRecord> newRecord) {
		if (remote == null && local == null) {
			ConnectionRecord record = newRecord.apply(this.ids.incrementAndGet());
			this.open.put(record, record);
			this.opened.increment();
			return record;
		}
		ConnectionRecord[] created = new ConnectionRecord[1];
		ConnectionRecord record = this.open.compute(new AddressPair(remote, local), (pair, existing) -> {
			if (existing != null && !existing.isClosed()) {
				return existing;
			}
			created[0] = newRecord.apply(this.ids.incrementAndGet());
			return created[0];
		});
		if (record == created[0]) {
			this.opened.increment();
		}
		return record;
	}

	/** A record closed: it leaves the open connections, and {@code last} joins the history. */
	void closed(ConnectionRecord record, ConnectionSnapshot last) {
		Object key = (record.remote() == null && record.local() == null) ? record
				: new AddressPair(record.remote(), record.local());
		this.open.remove(key, record);
		synchronized (this.history) {
			if (this.history.size() == this.historySize) {
				this.history.removeFirst();
			}
			this.history.addLast(last);
		}
	}

	String idPrefix() {
		return this.idPrefix;
	}

	List<ConnectionSnapshot> openConnections() {
		List<ConnectionRecord> records = new ArrayList<>(this.open.values());
		records.sort((a, b) -> Long.compare(a.id(), b.id()));
		List<ConnectionSnapshot> snapshots = new ArrayList<>(records.size());
		records.forEach((record) -> snapshots.add(record.snapshot()));
		return snapshots;
	}

	List<ConnectionSnapshot> recentlyClosed() {
		synchronized (this.history) {
			return List.copyOf(this.history);
		}
	}

	Optional<ConnectionSnapshot> find(String id) {
		for (ConnectionRecord record : this.open.values()) {
			if (record.displayId().equals(id)) {
				return Optional.of(record.snapshot());
			}
		}
		for (ConnectionSnapshot closed : recentlyClosed()) {
			if (closed.id().equals(id)) {
				return Optional.of(closed);
			}
		}
		return Optional.empty();
	}

	/** The open connection with this id, such as {@code s-42}, if any; a scan of the open connections. */
	@Nullable ConnectionRecord openRecord(String id) {
		if (!id.startsWith(this.idPrefix) || id.length() == this.idPrefix.length()
				|| !Character.isDigit(id.charAt(this.idPrefix.length()))) {
			return null;
		}
		long number;
		try {
			number = Long.parseLong(id.substring(this.idPrefix.length()));
		}
		catch (NumberFormatException ex) {
			return null;
		}
		for (ConnectionRecord record : this.open.values()) {
			if (record.id() == number && !record.isClosed()) {
				return record;
			}
		}
		return null;
	}

	int activeConnections() {
		return this.open.size();
	}

	long openedConnections() {
		return this.opened.sum();
	}

	/** The server calls in flight of each open connection, for the shutdown's close of calls. */
	List<ServerCalls> serverCalls() {
		List<ServerCalls> calls = new ArrayList<>();
		for (ConnectionRecord record : this.open.values()) {
			ServerCalls ofRecord = record.serverCalls();
			if (ofRecord != null) {
				calls.add(ofRecord);
			}
		}
		return calls;
	}

	private record AddressPair(@Nullable SocketAddress remote, @Nullable SocketAddress local) {
	}

}
