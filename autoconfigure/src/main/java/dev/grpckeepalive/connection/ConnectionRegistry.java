package dev.grpckeepalive.connection;

import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
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
 *
 * <p>The open connections are also kept in the order they opened, by number: numbers are
 * taken from one counter as connections open, so that order is the order of their numbers.
 * A page of them seeks to its cursor in that order and stops after its limit, without
 * copying or sorting the others; a lookup by id seeks to the number. Counting them reads the
 * address map's size, which does not walk.
 */
final class ConnectionRegistry {

	private final String idPrefix;

	private final int historySize;

	private final AtomicLong ids = new AtomicLong();

	private final LongAdder opened = new LongAdder();

	/** Open connections by address pair; by the record itself where the addresses are unknown. */
	private final Map<Object, ConnectionRecord> open = new ConcurrentHashMap<>();

	/**
	 * The open connections by number: {@link ConnectionRecord}s, and only {@link Cursor}s as
	 * the keys a seek starts from. One skip-list node per connection (and an index node for
	 * every other one, on average): about 36 bytes, no boxed number.
	 */
	private final NavigableSet<Object> byNumber = new ConcurrentSkipListSet<>(
			Comparator.comparingLong(ConnectionRegistry::numberOf));

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
			this.byNumber.add(record);
			this.opened.increment();
			return record;
		}
		ConnectionRecord[] created = new ConnectionRecord[1];
		ConnectionRecord record = this.open.compute(new AddressPair(remote, local), (pair, existing) -> {
			if (existing != null && !existing.isClosed()) {
				return existing;
			}
			created[0] = newRecord.apply(this.ids.incrementAndGet());
			// inside the map's lock of this pair: the record is in both collections before anyone finds it
			this.byNumber.add(created[0]);
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
		this.byNumber.remove(record);
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

	/** Every open connection, oldest first. */
	List<ConnectionSnapshot> openConnections() {
		List<ConnectionSnapshot> snapshots = new ArrayList<>();
		for (Object record : this.byNumber) {
			ConnectionSnapshot snapshot = ((ConnectionRecord) record).snapshot();
			if (!snapshot.isClosed()) {
				snapshots.add(snapshot);
			}
		}
		return snapshots;
	}

	/**
	 * A page: the open connections numbered after the query's cursor, oldest first, that match
	 * its filters at {@code nowNanos}, at most its limit. Seeks to the cursor, then walks in
	 * order and stops at the limit; a filter that matches rarely walks further, at most to the
	 * newest connection. Only the connections on the page become snapshots.
	 */
	List<ConnectionSnapshot> openConnections(ConnectionQuery query, long nowNanos) {
		List<ConnectionSnapshot> page = new ArrayList<>(Math.min(query.limit(), 128));
		for (Object next : this.byNumber.tailSet(new Cursor(query.after()), false)) {
			ConnectionRecord record = (ConnectionRecord) next;
			if (record.matches(query, nowNanos)) {
				ConnectionSnapshot snapshot = record.snapshot();
				// closed between the two reads: it leaves the list
				if (!snapshot.isClosed()) {
					page.add(snapshot);
					if (page.size() == query.limit()) {
						break;
					}
				}
			}
		}
		return page;
	}

	List<ConnectionSnapshot> recentlyClosed() {
		synchronized (this.history) {
			return List.copyOf(this.history);
		}
	}

	/** An open connection by its id, found by its number; else a recently closed one. */
	Optional<ConnectionSnapshot> find(String id) {
		ConnectionRecord open = openRecord(id);
		if (open != null) {
			return Optional.of(open.snapshot());
		}
		for (ConnectionSnapshot closed : recentlyClosed()) {
			if (closed.id().equals(id)) {
				return Optional.of(closed);
			}
		}
		return Optional.empty();
	}

	/** The number in an id of this registry ({@code 42} for {@code s-42}), or 0 when it is not one. */
	private long numberInId(String id) {
		if (!id.startsWith(this.idPrefix) || id.length() == this.idPrefix.length()
				|| id.length() - this.idPrefix.length() > 18) {
			return 0;
		}
		long number = 0;
		for (int i = this.idPrefix.length(); i < id.length(); i++) {
			char digit = id.charAt(i);
			if (digit < '0' || digit > '9') {
				return 0;
			}
			number = number * 10 + (digit - '0');
		}
		return number;
	}

	/** The open connection with this id, such as {@code s-42}, if any, found by its number. */
	@Nullable ConnectionRecord openRecord(String id) {
		long number = numberInId(id);
		if (number > 0) {
			Object record = this.byNumber.ceiling(new Cursor(number));
			if (record instanceof ConnectionRecord open && open.id() == number && !open.isClosed()) {
				return open;
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

	private static long numberOf(Object recordOrCursor) {
		return (recordOrCursor instanceof ConnectionRecord record) ? record.id() : ((Cursor) recordOrCursor).number();
	}

	/** Where a seek in the open connections by number starts; never stored. */
	private record Cursor(long number) {
	}

	private record AddressPair(@Nullable SocketAddress remote, @Nullable SocketAddress local) {
	}

}
