// Runs a CloudFront Function (cloudfront-js-2.0) under node for tests/infra/test_media_url_function.py.
// stdin: {"source": "<path of the function's file>", "kvs": {"<key>": "<value>"} | null,
//         "cases": [{"nowMs": <Date.now() seen by the function>, "event": <viewer-request event>}]}
// stdout: one JSON array, the handler's answer to each case (a request goes on, a response stops).
// The runtime's two modules are shimmed: 'crypto' is node's (createHmac, digest 'hex'), 'cloudfront'
// gives cf.kvs() whose get() answers the store's value or rejects as CloudFront's does for a key
// that is not there. Any other import fails: the runtime has no other module.
'use strict';
const fs = require('fs');
const vm = require('vm');
const nodeCrypto = require('crypto');

const IMPORT = /^import\s+(\w+)\s+from\s+'([^']+)';\s*$/gm;

function kvsShim(store) {
    return {
        kvs() {
            return {
                async get(name) {
                    if (store === null || !Object.prototype.hasOwnProperty.call(store, name)) {
                        throw new Error(`key not found: ${name}`);
                    }
                    return store[name];
                },
            };
        },
    };
}

async function main() {
    const input = JSON.parse(fs.readFileSync(0, 'utf8'));
    const modules = { crypto: nodeCrypto, cloudfront: kvsShim(input.kvs) };
    let clock = 0;
    const ShimDate = class extends Date {};
    ShimDate.now = () => clock;
    const sandbox = { Date: ShimDate };
    const source = fs.readFileSync(input.source, 'utf8').replace(IMPORT, (_, name, module) => {
        if (!(module in modules)) {
            throw new Error(`CloudFront Functions have no module ${module}`);
        }
        sandbox[`__module_${module}`] = modules[module];
        return `const ${name} = __module_${module};`;
    });
    const context = vm.createContext(sandbox);
    vm.runInContext(`${source}\nthis.__handler = handler;`, context, { filename: input.source });
    const answers = [];
    for (const item of input.cases) {
        clock = item.nowMs;
        answers.push(await context.__handler(item.event));
    }
    process.stdout.write(JSON.stringify(answers));
}

main().catch((error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
});
