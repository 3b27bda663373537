-- APNs courier (iOS 5+ framing) written in Lua, the way a Wireshark user without appleshark
-- would: for the benchmark's comparison only (benches/run.sh; docs/benchmarks.md).
--
-- Framing: command (1 byte), payload length (4, big-endian), then items: id (1), length
-- (2, big-endian), value. Reassembled with dissect_tcp_pdus. Fields: command, length, each
-- item (id, length, value) and the values people filter on: token, topic hash, topic name
-- (looked up in a table of SHA-1(name) → name), message id, payload, status, expiry,
-- timestamp, priority, the Connect/Keep-alive strings. Registered on TCP port 15223.
--
-- Usage: tshark -X lua_script:apns.lua -r courier.pcap
-- The topic table is apns_topics.lua beside this script (`return { [HEX] = name, ... }`,
-- written by the benchmark from appleshark's topic list); without it no names are shown.

local p = Proto("apnslua", "APNs courier (Lua)")

local commands = {
    [0x07] = "Connect", [0x08] = "Connect Response", [0x09] = "Filter Topics",
    [0x0A] = "Message", [0x0B] = "Message Ack", [0x0C] = "Keep-Alive",
    [0x0D] = "Keep-Alive Ack", [0x0E] = "No Storage", [0x0F] = "Flush",
    [0x10] = "Flush Response", [0x11] = "Scoped Token Request",
    [0x12] = "Scoped Token Response", [0x14] = "Set Active State",
}

local f = {
    command = ProtoField.uint8("apnslua.command", "Command", base.HEX, commands),
    length = ProtoField.uint32("apnslua.length", "Length", base.DEC),
    item = ProtoField.none("apnslua.item", "Item"),
    item_id = ProtoField.uint8("apnslua.item.id", "Item ID", base.DEC),
    item_length = ProtoField.uint16("apnslua.item.length", "Item Length", base.DEC),
    item_value = ProtoField.bytes("apnslua.item.value", "Value"),
    token = ProtoField.bytes("apnslua.token", "Push Token"),
    topic_hash = ProtoField.bytes("apnslua.topic_hash", "Topic Hash"),
    topic = ProtoField.string("apnslua.topic", "Topic"),
    message_id = ProtoField.uint32("apnslua.message_id", "Message ID", base.HEX),
    payload = ProtoField.bytes("apnslua.payload", "Payload"),
    status = ProtoField.uint8("apnslua.status", "Status", base.DEC),
    expiry = ProtoField.absolute_time("apnslua.expiry", "Expiry", base.UTC),
    timestamp = ProtoField.absolute_time("apnslua.timestamp", "Timestamp", base.UTC),
    priority = ProtoField.uint8("apnslua.priority", "Priority", base.DEC),
    text = ProtoField.string("apnslua.text", "Text"),
    interval = ProtoField.uint16("apnslua.keepalive_interval", "Keep-alive Interval", base.DEC),
}
p.fields = f

local topics = {}
do
    local src = debug.getinfo(1, "S").source
    local dir = src:match("^@(.*/)") or "./"
    local ok, t = pcall(dofile, dir .. "apns_topics.lua")
    if ok and type(t) == "table" then topics = t end
end

local function add_topic_hash(tree, v)
    tree:add(f.topic_hash, v)
    local name = topics[v:bytes():tohex()]
    if name then tree:add(f.topic, v, name):set_generated() end
end

-- One item's value, by command and item id.
local function add_value(cmd, id, tree, v, len)
    if id == 1 and (cmd == 0x0A or cmd == 0x0B or cmd == 0x09 or cmd == 0x07 or cmd == 0x0E or cmd == 0x11) then
        if len == 20 then add_topic_hash(tree, v) else tree:add(f.token, v) end
    elseif id == 2 and cmd == 0x0A then
        if len == 20 then add_topic_hash(tree, v) else tree:add(f.token, v) end
    elseif cmd == 0x09 and id >= 2 and id <= 6 and len == 20 then
        add_topic_hash(tree, v)
    elseif cmd == 0x0A and id == 3 then
        tree:add(f.payload, v)
    elseif (cmd == 0x0A or cmd == 0x0B) and id == 4 and len == 4 then
        tree:add(f.message_id, v)
    elseif cmd == 0x0A and id == 5 and len == 4 then
        tree:add(f.expiry, v, NSTime.new(v:uint(), 0))
    elseif cmd == 0x0A and id == 6 and len == 8 then
        local ns = v:uint64()
        local secs = (ns / 1000000000):tonumber()
        tree:add(f.timestamp, v, NSTime.new(secs, (ns % 1000000000):tonumber()))
    elseif cmd == 0x0A and id == 13 and len == 1 then
        tree:add(f.priority, v)
    elseif ((cmd == 0x0B and id == 8) or (cmd == 0x08 and id == 1)) and len == 1 then
        tree:add(f.status, v)
    elseif cmd == 0x08 and id == 3 then
        tree:add(f.token, v)
    elseif (cmd == 0x07 and id >= 8 and id <= 11) or (cmd == 0x0C and id >= 1 and id <= 4) then
        tree:add(f.text, v)
    elseif cmd == 0x0C and id == 5 and len == 2 then
        tree:add(f.interval, v)
    else
        tree:add(f.item_value, v)
    end
end

local function pdu_len(tvb, pinfo, offset)
    return 5 + tvb(offset + 1, 4):uint()
end

local function dissect_pdu(tvb, pinfo, tree)
    local cmd = tvb(0, 1):uint()
    local len = tvb(1, 4):uint()
    local name = commands[cmd] or string.format("Unknown 0x%02x", cmd)
    pinfo.cols.protocol = "APNs-Lua"
    pinfo.cols.info:append(name .. " ")
    local t = tree:add(p, tvb(0, 5 + len), "APNs courier (Lua), " .. name)
    t:add(f.command, tvb(0, 1))
    t:add(f.length, tvb(1, 4))
    local off, stop = 5, 5 + len
    while off + 3 <= stop do
        local id = tvb(off, 1):uint()
        local ilen = tvb(off + 1, 2):uint()
        if off + 3 + ilen > stop then
            t:add_expert_info(PI_MALFORMED, PI_ERROR, "item overruns the message")
            break
        end
        local it = t:add(f.item, tvb(off, 3 + ilen))
        it:append_text(string.format(" %d, %d bytes", id, ilen))
        it:add(f.item_id, tvb(off, 1))
        it:add(f.item_length, tvb(off + 1, 2))
        if ilen > 0 then add_value(cmd, id, it, tvb(off + 3, ilen), ilen) end
        off = off + 3 + ilen
    end
    return 5 + len
end

function p.dissector(tvb, pinfo, tree)
    pinfo.cols.info:clear()
    dissect_tcp_pdus(tvb, tree, 5, pdu_len, dissect_pdu, true)
    return tvb:len()
end

DissectorTable.get("tcp.port"):add(15223, p)
