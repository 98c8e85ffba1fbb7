// media.url at the edge (CONTRACT §7 Media, D-44): the dashboard distribution's viewer-request
// function of /media/*. The same rule as the local stack's front (devstack/media_front.py) and
// whatrack.domain.media.media_url_valid: GET /media/<quoted object key>?exp=<unix end>&sig=<hex
// HMAC-SHA256 of "<object key>\n<end>">, keyed with MediaUrlSecret's key, which
// scripts/publish_dashboard.py copies into the key value store associated with this function.
// A good URL goes on to the media bucket as /<quoted object key>, without its query (the cache
// key holds none); anything else answers 403. template.yaml's MediaUrlFunction carries this file
// verbatim (tests/infra/test_media_url_function.py).
import cf from 'cloudfront';
import crypto from 'crypto';

const PREFIX = '/media/';
const KEY_NAME = 'media-url-key';
const SIGNATURE = /^[0-9a-f]{64}$/;
const END = /^[0-9]{1,15}$/;
const keys = cf.kvs();

function forbidden() {
    return {
        statusCode: 403,
        statusDescription: 'Forbidden',
        headers: {
            'cache-control': { value: 'no-store' },
            'x-content-type-options': { value: 'nosniff' },
        },
    };
}

// One value, or '' (absent, empty, or given twice: a URL we sign has each once).
function single(querystring, name) {
    const field = querystring[name];
    if (!field || (field.multiValue && field.multiValue.length > 1)) {
        return '';
    }
    return field.value || '';
}

// The object key a path names, as signed_media_url quoted it ('' when it names none).
function objectKey(uri) {
    if (uri.substring(0, PREFIX.length) !== PREFIX) {
        return '';
    }
    try {
        return decodeURIComponent(uri.substring(PREFIX.length));
    } catch (e) {
        return '';
    }
}

// Compares every character whatever the first difference (no timing hint of the signature).
function sameText(given, expected) {
    if (given.length !== expected.length) {
        return false;
    }
    let difference = 0;
    for (let i = 0; i < expected.length; i++) {
        difference |= given.charCodeAt(i) ^ expected.charCodeAt(i);
    }
    return difference === 0;
}

async function handler(event) {
    const request = event.request;
    const key = objectKey(request.uri);
    const end = single(request.querystring, 'exp');
    const signature = single(request.querystring, 'sig');
    if (!key || !END.test(end) || Number(end) < Date.now() / 1000 || !SIGNATURE.test(signature)) {
        return forbidden();
    }
    let secret = '';
    try {
        secret = await keys.get(KEY_NAME);
    } catch (e) {
        return forbidden();
    }
    if (!secret) {
        return forbidden();
    }
    const expected = crypto.createHmac('sha256', secret).update(key + '\n' + Number(end)).digest('hex');
    if (!sameText(signature, expected)) {
        return forbidden();
    }
    request.uri = request.uri.substring(PREFIX.length - 1);
    request.querystring = {};
    return request;
}
