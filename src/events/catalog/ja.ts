import type { Catalog, InspectTexts } from './types';

/** A detail with its few English words said in Japanese (the data around them stays as is). */
const say =
  (...rules: [RegExp, string][]) =>
  (d: string): string =>
    rules.reduce((t, [re, to]) => t.replace(re, to), d);

export const ja: Catalog = {
  config_loaded: {
    title: '設定の読み込み',
    explain: 'config.json を読み、何かを作る前に OCI ランタイム仕様に沿っているか確かめました。',
    detail: (d) => `「${d}」`,
  },
  state_reserved: {
    title: '状態ディレクトリの確保',
    explain: 'コンテナ用のディレクトリで ID を予約しました。ロックで tsrun の同時実行がぶつからないようにします。',
  },
  cgroup_created: { title: 'cgroup の作成', explain: 'コントロールグループにコンテナのプロセスをまとめ、カーネルが使用量を数えて制限できるようにします。' },
  cgroup_limits: {
    title: '制限の書き込み',
    explain: '制限は cgroup のファイルに書き込んで設定します。memory.max や pids.max に書くと、カーネルがそこで止めます。',
    explainCgroupV1:
      '制限は cgroup のファイルに書き込んで設定します。memory.limit_in_bytes や pids.max（cgroup v1 での名前で、コントローラごとにディレクトリがあります）に書くと、カーネルがそこで止めます。',
  },
  paused: { title: '一時停止', explain: 'freezer が cgroup 内の全プロセスを一度に止めました。メモリはそのまま、CPU は使いません。', detail: (d) => `「${d}」` },
  resumed: { title: '再開', explain: 'freezer がプロセスを止まった所から再び動かしました。', detail: (d) => `「${d}」` },
  updated: { title: '制限の変更', explain: '動いているコンテナの制限は、cgroup のファイルを書き直すことで変わります。' },
  cgroup_joined: {
    title: 'cgroup への参加',
    explain:
      'プロセスは何かを始める前に cgroup に入ります。各階層の tasks ファイルに自分で 0 を書き込むか（自分自身を移すスレッドにはグローバルなロックが要りません）、ユーザー名前空間の中ではランタイムがその PID を cgroup.procs に書き込みます。以後このプロセスが起動するものはすべて計上されます。',
    detail: say([/ \(by the process itself\)$/, '（プロセス自身が参加）']),
  },
  init_spawned: { title: 'init の起動', explain: 'ネイティブの init が新しい名前空間の中で起動し、ランタイム側の準備を待っています。' },
  hook: { title: 'フック', explain: 'OCI フックがコンテナの状態を標準入力で受け取って動きました（ネットワークや GPU の設定など）。' },
  created: {
    title: '作成完了',
    explain: '準備完了です。init は start が exec fifo を開くまで待ちます（create と start の分離）。',
    detail: say([/^(?!exec )(\S+) pid /, '「$1」 pid ']),
  },
  started: {
    title: '開始',
    explain: 'start が exec fifo を開き、init が 1 バイト書いてコンテナのプログラムを execve しました。',
    detail: say([/^(?!exec )(\S+) pid /, '「$1」 pid ']),
  },
  signal: {
    title: 'シグナル送信',
    explain: 'kill は init に、--all なら cgroup 内の全プロセスにシグナルを送ります。',
    detail: say([/ \(by its monitor\)$/, '（モニターから）']),
  },
  exited: {
    title: '終了',
    explain:
      'コンテナのプロセスが終わりました。その終了ステータス（シグナルで終わったときは 128 にシグナル番号を足した値）が `tsrun run` の終了コードになります。',
    detail: say([/^status (\d+)$/, '終了ステータス $1']),
  },
  deleted: { title: '削除', explain: 'cgroup と状態ディレクトリを消しました。コンテナの痕跡は何も残っていません。', detail: (d) => `「${d}」` },
  image_resolved: { title: '参照の解決', explain: 'レジストリがタグに対してマニフェスト（またはその一覧）とダイジェストを返しました。' },
  platform_selected: { title: 'プラットフォームの選択', explain: 'インデックスには OS と CPU ごとのマニフェストがあり、このマシン用のものを選びました。' },
  blob_fetched: {
    title: 'blob の取得',
    explain: 'レイヤーか設定をダウンロードし、sha256 を確かめてからコンテンツストアに入れました。',
    detail: say([/ (\d+) bytes/, ' $1 バイト'], [/\(resumed at (\d+)\)/, '（$1 バイト目から再開）']),
  },
  layer_unpacked: {
    title: 'レイヤーの展開',
    explain: 'レイヤーの tar をディレクトリにしました。.wh. ファイルは下の層を隠す overlay の whiteout になります。',
    detail: say([/: (\d+) entries, (\d+) whiteouts$/, ': エントリ $1 個、whiteout $2 個']),
  },
  image_stored: { title: 'イメージの登録', explain: 'イメージ名がマニフェストを指すようになりました。レイヤーは同じものを持つイメージ間で共有されます。' },
  rootfs_mounted: {
    title: 'overlay のマウント',
    explain: 'overlayfs が読み取り専用のレイヤーを重ね、その上のコンテナ専用 upper ディレクトリが書き込みを受けます。',
    detail: say([/^(\d+) layers \+ upper /, 'レイヤー $1 枚 + upper ']),
  },
  setns: { title: '名前空間への参加', explain: 'setns(2) で既存の名前空間（別のコンテナや Pod のもの）に入りました。' },
  clone: {
    title: 'clone',
    explain: 'CLONE_NEW* フラグ付きの clone(2) で、新しい名前空間とその中のプロセスを一度に作りました。',
    detail: say([/ new namespaces: /, ' 新しい名前空間: ']),
  },
  id_maps: {
    title: 'ID マップの書き込み',
    explain: 'uid_map/gid_map で、ユーザー名前空間の ID がホストのどの ID かを決めます。中の root は外では一般ユーザーです。',
  },
  namespace: { title: '名前空間', explain: '後から作る名前空間です。cgroup 名前空間は cgroup に入った後に、time 名前空間はオフセット付きで作ります。' },
  rootfs: {
    title: 'rootfs の準備',
    explain: 'rootfs を自分自身にバインドマウントし、すべてのマウントをプライベート（伝播しない）にして、ホストへ漏れないようにしました。',
  },
  mount: {
    title: 'マウント',
    explain: 'ファイルシステムはコンテナのマウント名前空間の中にだけ現れ、ホストからは見えません。',
    detail: say([/ idmapped\b/, ' ID マップ付き'], [/ recursive-attrs$/, ' 再帰的な属性']),
  },
  idmap: { title: 'ID マップ付きマウント', explain: 'mount_setattr で bind マウントに ID の対応を付け、ホストのファイルをコンテナの所有に見せます。' },
  mount_sources: {
    title: 'バインド元を開く',
    explain:
      '新しいユーザー名前空間では、コンテナの root が届かないバインド元があります。まだ本物の root であるランタイムがコンテナのマウント名前空間の中でそれらを開き、ファイルディスクリプタとして渡しました。',
    detail: say([/^(\d+) bind sources opened as real root$/, 'バインド元 $1 個を本物の root で開きました']),
  },
  device: {
    title: 'デバイスファイル',
    explain: 'コンテナの /dev には少数のデバイスだけがあります。開けるかどうかは devices cgroup が決めます。',
    detail: say([/ kept existing$/, ' 既存のものを使用'], [/ bind from host$/, ' ホストのものをバインドマウント']),
  },
  createContainer: { title: 'createContainer フック', explain: 'マウントの後、pivot_root の前に、コンテナの名前空間の中で動くフックです。' },
  startContainer: { title: 'startContainer フック', explain: 'start の後、プログラムの直前に、コンテナの中で動くフックです。' },
  pivot_root: { title: 'pivot_root', explain: 'pivot_root(2) で rootfs を「/」にし、古いルートを外しました。ホストのファイルには届きません。' },
  hide_host_proc_sys: {
    title: 'ホストの procfs/sysfs を隠す',
    explain:
      '--no-pivot ではホストのマウントが名前空間に残ります。入れ子のユーザー名前空間がマスクのない新しい procfs をマウントできないよう、先にホストの procfs と sysfs を外しました。',
    detail: say([/^(\d+) host procfs\/sysfs mounts$/, 'ホストの procfs/sysfs のマウント $1 個']),
  },
  chroot: {
    title: 'chroot',
    explain:
      '--no-pivot のとき(rootfs を「/」に移します)、または自前のマウント名前空間がないとき、chroot(2) でコンテナのルートを決めます。pivot_root の方が安全です。',
  },
  readonly_path: { title: '読み取り専用パス', explain: '/proc/sys などを読み取り専用で再マウントし、カーネル設定を変えられないようにしました。' },
  masked_path: { title: 'マスクしたパス', explain: '/proc/kcore などの機密性の高いパスを空のファイルや tmpfs で覆いました。' },
  readonly_root: { title: '読み取り専用のルート', explain: 'ルートファイルシステムを読み取り専用にしました。書けるのは上に重ねたマウントだけです。' },
  hostname: { title: 'ホスト名', explain: 'UTS 名前空間でコンテナに自分のホスト名を与えます。', detail: (d) => `「${d}」` },
  domainname: { title: 'ドメイン名', explain: 'UTS 名前空間は NIS ドメイン名も持ちます。', detail: (d) => `「${d}」` },
  sysctl: { title: 'sysctl', explain: '名前空間ごとのカーネル設定を、このコンテナにだけ書きました（ネットワーク名前空間の net.* など）。' },
  console: {
    title: 'コンソール',
    explain:
      'コンテナ内に pty を作り、マスター側を unix ソケット（SCM_RIGHTS）で呼び出し元に渡しました。新しいコンテナではその pty を /dev/console にもバインドマウントします（イメージがシンボリックリンクに変えられるパスではなく、pty 自身のファイル記述子から）。',
    detail: say([/^\/dev\/console bound on the pty$/, '/dev/console を pty にバインドマウント']),
  },
  oom_score_adj: { title: 'OOM スコア', explain: 'oom_score_adj は、メモリ不足のときに OOM キラーがこのプロセスをどれだけ選びやすいかを決めます。' },
  rlimit: { title: 'rlimit', explain: 'setrlimit で開けるファイル数などを制限します。CAP_SYS_RESOURCE がなければハードリミットは下げることしかできません。' },
  cap_bounding: {
    title: 'バウンディングセット',
    explain: 'バウンディングセットの外の capability は、このプロセスと子孫から永久に消えます。',
    detail: say([/^kept (\S+), dropped (\d+)$/, '残す $1、外した数 $2']),
  },
  user: { title: 'ユーザー', explain: 'setresuid/setresgid でコンテナのユーザーに切り替えました。capability は意図的に保持しています。' },
  capabilities: {
    title: 'capability',
    explain: 'capset(2) で root の権限のうち何を残すかを、実効・許可・継承・アンビエントの各セットに決めました。',
    detail: say([/\beffective\b/, '実効'], [/\bpermitted\b/, '許可'], [/\binheritable\b/, '継承'], [/\bambient\b/, 'アンビエント']),
  },
  seccomp: {
    title: 'seccomp',
    explain: 'BPF フィルタが全てのシステムコールを調べます。禁止されたものは errno で失敗するかプロセスを止めます。',
    detail: say([/(\d+) instructions$/, 'BPF 命令 $1 個']),
  },
  pod_namespaces: {
    title: 'Pod の名前空間をバインドマウントで保持',
    explain: '新しいネットワーク・IPC・UTS 名前空間をファイルにバインドマウントしました。プロセスがいなくても残り、Pod の各コンテナはパスで参加します。',
    detail: say([/^none \(host\)/, 'なし（ホストのもの）'], [/\(uid map ([^)]*)\)$/, '（uid_map $1）']),
  },
  pod_shm: { title: 'Pod の /dev/shm', explain: '一つの tmpfs が Pod の /dev/shm です。IPC 名前空間を共有するコンテナはこの共有メモリも共有します。' },
  pod_network: {
    title: 'Pod のネットワーク (CNI)',
    explain: 'CNI プラグイン（bridge, host-local, portmap）が Pod のネットワーク名前空間に veth・IP・ポートマッピングを用意しました。',
    detail: say([/^(\S+) /, 'ネットワーク「$1」 '], [/ in (\S+)/, '（$1）'], [/ ports (\S+)$/, ' ポート $1']),
  },
  pod_files: {
    title: 'Pod のファイル',
    explain: 'hosts・resolv.conf・hostname を Pod ごとに一度書き、各コンテナにバインドマウントします。',
    detail: say([/^hostname (\S+), hosts, resolv\.conf in (\S+)$/, 'hostname「$1」・hosts・resolv.conf → $2']),
  },
  pod_infra: {
    title: 'Pod の PID 1',
    explain: 'Pod が一つの PID 名前空間を共有します。tsrun-pause が PID 1 として孤児プロセスを回収するので、コンテナは出入りできます。',
  },
  pod_stopped: {
    title: 'Pod の停止',
    explain: 'コンテナを止め、CNI DEL で Pod のインターフェース・アドレス・ポートマッピングを消しました。',
    detail: (d) => `「${d}」`,
  },
  pod_removed: {
    title: 'Pod の削除',
    explain: 'バインドマウントで保持していた名前空間ファイルをアンマウントし、Pod のディレクトリと cgroup を消しました。',
    detail: (d) => `「${d}」`,
  },
  container_spec: {
    title: 'CRI リクエストから config.json',
    explain: 'CRI のリクエストとイメージの設定から OCI の config.json を作りました（コマンド・ユーザー・capability・seccomp・Pod の名前空間）。',
    detail: say(
      [/^(\S+) from (\S+): user/, '「$1」 from $2: user'],
      [/ from (\S+): user (\S+), (\d+) capabilities, seccomp (\S+), args (.*)$/, '（イメージ $1）: ユーザー $2、capability $3 個、seccomp $4、引数 「$5」'],
      [/seccomp none、/, 'seccomp なし、'],
    ),
  },
  monitor_started: {
    title: 'モニターの起動',
    explain: 'tsrun-monitor がサーバーのコンパイルした設定で init を起動し、コンテナの親になりました。ログを書き、終了コードを記録します。',
    detail: say([/^monitor pid ([^,\s]+), container pid ([^,\s]+)/, 'モニター pid $1、コンテナ pid $2'], [/, log (\S+)$/, '、ログ $1']),
  },
  container_exited: {
    title: 'コンテナの終了',
    explain: 'モニターが終了ステータスをディスクに記録しました。CRI はそれをコンテナの終了コードと理由として返します。',
    detail: say([/^(\S+): exit (\d+) /, '「$1」: 終了コード $2 ']),
  },
};

export const jaInspect: InspectTexts = {
  namespaces: '名前空間はカーネルのオブジェクトで inode を持ちます。ホストと同じ inode なら共有、違えば分離されています。',
  cgroup: 'cgroup はプロセスの使用量を数え、カーネルが強制する制限を持ちます。',
  processes: 'cgroup 内の各プロセスには pid が 2 つあります。ホストでの pid と、自分の PID 名前空間での pid です（init は 1）。',
  capabilities: 'root の権限を細かく分けたものです。バウンディングセットはこのプロセスツリーが持てる上限です。',
  seccomp: '「filter」は BPF プログラムが各システムコールを調べることを意味します。no_new_privs は setuid で権限が増えるのを防ぎます。',
  mounts:
    'コンテナ自身のマウント名前空間のマウントテーブルです（/proc/PID/mountinfo）。マウントごとのオプションの後に、そのファイルシステムのオプションを示します。' +
    'マスクしたパスは覆われていて（ファイルは /dev/null で、ディレクトリは空の読み取り専用 tmpfs で）、コンテナからは中身を読めません。',
  layers: 'overlayfs がコンテナの書き込み用 upper ディレクトリの下に重ねたイメージのレイヤーです。',
};
