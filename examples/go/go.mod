module paysandbox.example/wechatpay

go 1.19
